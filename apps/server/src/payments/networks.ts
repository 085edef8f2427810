import { DEV_ACCOUNTS, type Devchain, startDevchain, TEST_USDC } from "@robo402/devchain";
import type { Network as CaipNetwork, Price } from "@x402/core/types";
import type { Config, Network } from "../config.ts";
import { ConfigError } from "../config.ts";

/** The token prices are paid in: its contract, decimals and EIP-712 domain (EIP-3009 signatures name it). */
export interface PaymentAsset {
  readonly address: string;
  readonly decimals: number;
  readonly name: string;
  readonly version: string;
}

/** A chain family: one x402 mechanism each (`@x402/evm`, `@x402/svm`), registered from configuration. */
export type ChainFamily = "evm" | "svm";

/** Where someone is paid, one address per chain family they can be paid on. */
export type Payees = Partial<Record<ChainFamily, string>>;

/** Everything the payment gate needs to know about a chain it takes money on. */
export interface PaymentNetwork {
  readonly name: Network;
  readonly family: ChainFamily;
  /** CAIP-2 id, as x402 v2 names networks. */
  readonly id: CaipNetwork;
  readonly asset: PaymentAsset;
  /** The time-based session's price (SESSION_PRICE), in `asset`. */
  readonly price: Price;
  /** Where payments go when a robot names no wallet of its own (PAYMENT_ADDRESS, SOLANA_PAYMENT_ADDRESS). */
  readonly payTo: string;
  readonly facilitatorUrl: string;
  /** Where the chain is read from (interrupted settlements, the plan flow's transfers, Solana clients). */
  readonly rpcUrl: string;
  /** The embedded chain, when the platform started one. */
  readonly devchain?: Devchain;
}

/** Who `payees` pays on `network`; undefined when they cannot be paid there. */
export const payeeOn = (network: PaymentNetwork, payees: Payees): string | undefined =>
  payees[network.family] || undefined;

// Circle's USDC on Base; the EIP-712 domain is what its EIP-3009 signatures are made over.
const PUBLIC_EVM = {
  "base-sepolia": {
    id: "eip155:84532",
    rpcUrl: "https://sepolia.base.org",
    facilitator: "https://x402.org/facilitator",
    asset: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", decimals: 6, name: "USDC", version: "2" },
  },
  base: {
    id: "eip155:8453",
    rpcUrl: "https://mainnet.base.org",
    facilitator: undefined,
    asset: {
      address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
      decimals: 6,
      name: "USD Coin",
      version: "2",
    },
  },
} as const;

// Circle's USDC on Solana (SPL Token, 6 decimals); x402.org's facilitator serves devnet.
const PUBLIC_SOLANA = {
  "solana-devnet": {
    id: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    rpcUrl: "https://api.devnet.solana.com",
    facilitator: "https://x402.org/facilitator",
    mint: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
  },
  solana: {
    id: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    rpcUrl: "https://api.mainnet-beta.solana.com",
    facilitator: undefined,
    mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
  },
} as const;

const splUsdc = (mint: string): PaymentAsset => ({ address: mint, decimals: 6, name: "USDC", version: "" });

// The local dev wallets that receive payments when PAYMENT_ADDRESS / SOLANA_PAYMENT_ADDRESS are not set
// (anvil account #8, the local Solana's keypair #8).
const LOCAL_PAYEE = DEV_ACCOUNTS[8]?.address as string;
const LOCAL_SOLANA_PAYEE_INDEX = 8;

/** "$0.10" → 100000 base units of a 6-decimal token, without floating point. */
export function dollarsToBaseUnits(price: string, decimals: number): string {
  const [whole = "0", fraction = ""] = price.replace("$", "").split(".");
  return (
    BigInt(whole) * 10n ** BigInt(decimals) +
    BigInt(fraction.padEnd(decimals, "0").slice(0, decimals) || "0")
  ).toString();
}

/**
 * A dollar price (`$0.10` or `0.10`) as x402 states it: base units of the network's own asset (with the
 * EIP-712 domain EIP-3009 signatures are made over, when the asset has one).
 */
export function priceIn(asset: PaymentAsset, dollars: string): Price {
  return {
    amount: dollarsToBaseUnits(dollars, asset.decimals),
    asset: asset.address,
    extra: asset.version ? { name: asset.name, version: asset.version } : {},
  };
}

/**
 * Resolves the accepted networks (X402_NETWORKS, or X402_NETWORK alone); the first is the platform's
 * primary one. `local` and `solana-local` share one embedded devchain (anvil, the local Solana, test
 * USDC on both and a facilitator for both) unless FACILITATOR_URL points at one already running.
 */
export async function openPaymentNetworks(config: Config): Promise<PaymentNetwork[]> {
  const names = config.X402_NETWORKS.length ? config.X402_NETWORKS : [config.X402_NETWORK];
  const firstLocal = names.findIndex((name) => name === "local" || name === "solana-local");
  const devchain = firstLocal >= 0 && !config.FACILITATOR_URL ? await startDevchain() : undefined;
  try {
    return names.map((name, index) =>
      openNetwork(name, config, index === firstLocal ? devchain : undefined, devchain),
    );
  } catch (error) {
    await devchain?.close();
    throw error;
  }
}

/** One network; `owned` is the devchain it closes (the first local network's), `devchain` the one it uses. */
function openNetwork(
  name: Network,
  config: Config,
  owned: Devchain | undefined,
  devchain: Devchain | undefined,
): PaymentNetwork {
  const price = (asset: PaymentAsset) => priceIn(asset, config.SESSION_PRICE);
  if (name === "local") {
    const asset = TEST_USDC;
    const base = {
      name,
      family: "evm" as const,
      asset,
      price: price(asset),
      payTo: config.PAYMENT_ADDRESS || LOCAL_PAYEE,
    };
    if (devchain)
      return {
        ...base,
        id: devchain.network,
        facilitatorUrl: devchain.facilitatorUrl,
        rpcUrl: devchain.rpcUrl,
        devchain: owned,
      };
    if (!config.EVM_RPC_URL)
      throw new ConfigError("EVM_RPC_URL: needed with X402_NETWORK=local and FACILITATOR_URL");
    return {
      ...base,
      id: "eip155:31337",
      facilitatorUrl: config.FACILITATOR_URL as string,
      rpcUrl: config.EVM_RPC_URL,
    };
  }
  if (name === "solana-local") {
    if (devchain) {
      const { solana } = devchain;
      const asset = splUsdc(solana.mint);
      const payTo =
        config.SOLANA_PAYMENT_ADDRESS || (solana.accounts[LOCAL_SOLANA_PAYEE_INDEX]?.address as string);
      return {
        name,
        family: "svm",
        id: solana.network,
        asset,
        price: price(asset),
        payTo,
        facilitatorUrl: devchain.facilitatorUrl,
        rpcUrl: solana.rpcUrl,
        devchain: owned,
      };
    }
    if (!config.SOLANA_RPC_URL || !config.SOLANA_USDC_MINT || !config.SOLANA_PAYMENT_ADDRESS)
      throw new ConfigError(
        "SOLANA_RPC_URL, SOLANA_USDC_MINT, SOLANA_PAYMENT_ADDRESS: needed with solana-local and FACILITATOR_URL (npm run devchain prints them)",
      );
    const asset = splUsdc(config.SOLANA_USDC_MINT);
    return {
      name,
      family: "svm",
      id: PUBLIC_SOLANA["solana-devnet"].id,
      asset,
      price: price(asset),
      payTo: config.SOLANA_PAYMENT_ADDRESS,
      facilitatorUrl: config.FACILITATOR_URL as string,
      rpcUrl: config.SOLANA_RPC_URL,
    };
  }
  if (name === "solana" || name === "solana-devnet") {
    const known = PUBLIC_SOLANA[name];
    const facilitatorUrl = config.FACILITATOR_URL ?? known.facilitator;
    if (!facilitatorUrl) throw new ConfigError(`FACILITATOR_URL: needed with ${name}`);
    if (!config.SOLANA_PAYMENT_ADDRESS) throw new ConfigError(`SOLANA_PAYMENT_ADDRESS: needed with ${name}`);
    const asset = splUsdc(known.mint);
    return {
      name,
      family: "svm",
      id: known.id,
      asset,
      price: price(asset),
      payTo: config.SOLANA_PAYMENT_ADDRESS,
      facilitatorUrl,
      rpcUrl: config.SOLANA_RPC_URL ?? known.rpcUrl,
    };
  }
  const known = PUBLIC_EVM[name];
  const facilitatorUrl = config.FACILITATOR_URL ?? known.facilitator;
  if (!facilitatorUrl) throw new ConfigError(`FACILITATOR_URL: needed with X402_NETWORK=${name}`);
  if (!config.PAYMENT_ADDRESS) throw new ConfigError(`PAYMENT_ADDRESS: needed with X402_NETWORK=${name}`);
  return {
    name,
    family: "evm",
    id: known.id,
    asset: known.asset,
    price: price(known.asset),
    payTo: config.PAYMENT_ADDRESS,
    facilitatorUrl,
    rpcUrl: config.EVM_RPC_URL ?? known.rpcUrl,
  };
}
