import { type Devchain, startDevchain } from "@robo402/devchain";
import { PAYMENT_NETWORKS } from "@robo402/protocol";
import type { Network as CaipNetwork, Price } from "@x402/core/types";
import { parseUnits } from "viem";
import { type Config, ConfigError, type Network } from "../config.ts";
import { FAMILIES, type FamilyId, familyIdOf } from "./families/index.ts";

/** The token prices are paid in: its contract, decimals and EIP-712 domain (EIP-3009 signatures name it). */
export interface PaymentAsset {
  readonly address: string;
  readonly decimals: number;
  readonly name: string;
  readonly version: string;
}

/** Where someone is paid, one address per chain family they can be paid on. */
export type Payees = Partial<Record<FamilyId, string>>;

/** `payees`, with `fallback`'s address on each family they name none on. */
export function payeesOr(payees: Payees | undefined, fallback: Payees): Payees {
  const merged = { ...fallback };
  for (const [family, address] of Object.entries(payees ?? {}))
    if (address) merged[family as FamilyId] = address;
  return merged;
}

/** Everything the payment gate needs to know about a chain it takes money on. */
export interface PaymentNetwork {
  readonly name: Network;
  readonly family: FamilyId;
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

/**
 * A dollar price (`$0.10` or `0.10`) as x402 states it: base units of the network's own asset (with the
 * EIP-712 domain EIP-3009 signatures are made over, when the asset has one).
 */
export function priceIn(asset: PaymentAsset, dollars: string): Price {
  return {
    amount: parseUnits(dollars.replace("$", ""), asset.decimals).toString(),
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
  const firstLocal = names.findIndex((name) => PAYMENT_NETWORKS[name].local);
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

/** One network, opened by its family; `owned` is the devchain it closes (the first local network's), `devchain` the one it uses. */
function openNetwork(
  name: Network,
  config: Config,
  owned: Devchain | undefined,
  devchain: Devchain | undefined,
): PaymentNetwork {
  const { id, local } = PAYMENT_NETWORKS[name];
  const family = familyIdOf(id);
  if (!family) throw new ConfigError(`X402_NETWORK: no chain family here takes ${name} (${id})`);
  const chain = local ? devchain : undefined;
  const terms = FAMILIES[family].open(name, config, chain);
  return {
    name,
    family,
    id,
    ...terms,
    price: priceIn(terms.asset, config.SESSION_PRICE),
    ...(chain && { devchain: owned }),
  };
}
