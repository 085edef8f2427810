import type { Payees, PaymentNetwork } from "./networks.ts";

/** What a robot from the platform's own configuration is listed at, and who is paid for it. */
export interface PlatformTerms {
  /** SESSION_PRICE in dollars, without its `$`. */
  readonly price: string;
  readonly payees: Payees;
}

/**
 * Where money goes when a robot came from configuration: PAYMENT_ADDRESS (SOLANA_PAYMENT_ADDRESS), or the
 * local chains' payees; each family's first accepted network decides.
 */
export function platformPayees(networks: readonly PaymentNetwork[]): Payees {
  const payees: Payees = {};
  for (const accepted of networks) payees[accepted.family] ??= accepted.payTo;
  return payees;
}

/** A robot's EVM wallet is required even where only Solana is accepted: PAYMENT_ADDRESS stands in for it. */
export function platformTerms(
  payees: Payees,
  config: { readonly sessionPrice: string; readonly paymentAddress: string },
): PlatformTerms {
  return {
    price: config.sessionPrice.replace("$", ""),
    payees: { ...payees, evm: payees.evm ?? config.paymentAddress },
  };
}
