import { evmFamily } from "./evm/index.ts";
import { svmFamily } from "./svm/index.ts";
import type { ChainFamily } from "./types.ts";

export type { Authorization, ChainFamily, Settlement, VerifierOptions } from "./types.ts";

/**
 * The chain families the platform can take payments on, each a plug-in in its own folder; this is the
 * only list of them. The keys are what payees and networks are filed under.
 */
export const FAMILIES = {
  evm: evmFamily,
  svm: svmFamily,
} satisfies Record<string, ChainFamily>;

export type FamilyId = keyof typeof FAMILIES;

/** The family of a CAIP-2 network id (`eip155:…`, `solana:…`), whether or not this server accepts it. */
export function familyIdOf(network: string): FamilyId | undefined {
  const namespace = network.split(":")[0];
  return (Object.keys(FAMILIES) as FamilyId[]).find((id) => FAMILIES[id].namespace === namespace);
}

export function familyOf(network: string): ChainFamily | undefined {
  const id = familyIdOf(network);
  return id && FAMILIES[id];
}
