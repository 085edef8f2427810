import type { PaymentNetwork } from "./networks.ts";

// An RPC answer at all is what readiness asks for, so the EVM call also serves a Solana primary (whose
// RPC answers it, with a JSON-RPC error): viem's getBlockNumber would fail there.
const RPC_BLOCK_NUMBER = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });

/** Resolves when `url` answers 2xx (a readiness check). */
async function answers(url: string, init: RequestInit = {}): Promise<void> {
  const response = await fetch(url, {
    ...init,
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(2000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`answered ${response.status}`);
}

/** Whether the primary network's chain RPC and facilitator answer. */
export function networkReadiness(
  network: PaymentNetwork,
): Record<"chain" | "facilitator", () => Promise<void>> {
  return {
    chain: () => answers(network.rpcUrl, { method: "POST", body: RPC_BLOCK_NUMBER }),
    facilitator: () => answers(`${network.facilitatorUrl}/supported`),
  };
}
