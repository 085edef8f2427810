import type { ChainFamily } from "../networks.ts";
import { evmMechanism } from "./evm.ts";
import { svmMechanism } from "./svm.ts";
import type { ChainMechanism } from "./types.ts";

export type { Authorization, ChainMechanism, VerifierOptions } from "./types.ts";

/** The chain families the platform can take payments on, each a plug-in. */
export const MECHANISMS: Record<ChainFamily, ChainMechanism> = { evm: evmMechanism, svm: svmMechanism };

/** The mechanism of a CAIP-2 network id (`eip155:…`, `solana:…`), whether or not this server accepts it. */
export function mechanismOf(network: string): ChainMechanism | undefined {
  const namespace = network.split(":")[0];
  return Object.values(MECHANISMS).find((mechanism) => mechanism.namespace === namespace);
}
