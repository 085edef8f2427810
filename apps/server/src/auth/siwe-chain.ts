import { familyIdOf } from "../payments/families/index.ts";

/**
 * The chain a wallet sign-in names: SIWE is EVM's, so the first accepted `eip155:` network's id (CAIP-2);
 * undefined when no EVM network is accepted.
 */
export function siweChainId(networkIds: readonly string[]): number | undefined {
  const evm = networkIds.find((id) => familyIdOf(id) === "evm");
  return evm ? Number(evm.split(":")[1]) : undefined;
}
