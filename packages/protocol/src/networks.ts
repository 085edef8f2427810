/**
 * The payment networks by the name configuration gives them (X402_NETWORK), with the CAIP-2 id x402 v2
 * names them by and a name for people. The server, the portals and the devchain all read this one table.
 * `local` networks run on this machine (the devchain); a local Solana presents itself under devnet's id,
 * the only ids besides mainnet's and testnet's that x402's Solana scheme accepts.
 */
export const PAYMENT_NETWORKS = {
  local: { id: "eip155:31337", label: "Local test chain (anvil)", local: true },
  "base-sepolia": { id: "eip155:84532", label: "Base Sepolia", local: false },
  base: { id: "eip155:8453", label: "Base", local: false },
  "solana-devnet": { id: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", label: "Solana Devnet", local: false },
  solana: { id: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", label: "Solana", local: false },
  "solana-local": {
    id: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    label: "Local Solana (litesvm)",
    local: true,
  },
} as const;

export type NetworkName = keyof typeof PAYMENT_NETWORKS;

/** Every network name, in the table's order (for enums and messages). */
export const NETWORK_NAMES = Object.keys(PAYMENT_NETWORKS) as [NetworkName, ...NetworkName[]];

/** The name people read for a CAIP-2 id; undefined for a network not in the table. */
export function networkLabel(id: string): string | undefined {
  return Object.values(PAYMENT_NETWORKS).find((network) => network.id === id)?.label;
}
