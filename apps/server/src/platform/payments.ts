import type { Logger } from "pino";
import { paidAuth, walletHeaderAuth } from "../access/identity.ts";
import { freePurchase, paidPurchase } from "../access/routes.ts";
import { sessionTerms } from "../access/terms.ts";
import type { SignInOrigins } from "../auth/origins.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { TransferChains } from "../execute/transfer-verify.ts";
import type { ReadinessCheck } from "../http/health.ts";
import type { Kv } from "../kv/index.ts";
import { FAMILIES } from "../payments/families/index.ts";
import { PaymentLedger } from "../payments/ledger.ts";
import { openPaymentNetworks } from "../payments/networks.ts";
import { platformPayees, platformTerms } from "../payments/payees.ts";
import { networkReadiness } from "../payments/readiness.ts";
import { X402Payments } from "../payments/x402.ts";
import type { Control } from "./robots.ts";
import type { Wiring } from "./shutdown.ts";

/**
 * The chains payments are taken on (none in free mode), the ledger, and where the money goes. It takes the
 * whole configuration because openPaymentNetworks (payments/networks.ts) still reads it whole.
 */
export async function wirePayments(
  config: Config,
  db: Db,
  onRefusal: (reason: string) => void,
  { logger, shutdown }: Wiring,
) {
  const networks = config.PAYMENT_ENABLED ? await openPaymentNetworks(config) : [];
  const [network] = networks;
  for (const { devchain } of networks) if (devchain) shutdown.add(() => devchain.close());
  const ledger = new PaymentLedger(db);
  const x402 = network && new X402Payments(networks, ledger, logger, onRefusal);
  const payees = platformPayees(networks);
  const terms = platformTerms(payees, {
    sessionPrice: config.SESSION_PRICE,
    paymentAddress: config.PAYMENT_ADDRESS,
  });
  const transferChains: TransferChains | undefined = x402 && {
    networks,
    verifiers: new Map(
      networks.map((accepted) => [
        accepted.id,
        FAMILIES[accepted.family].verifier(accepted, {
          confirmations: config.VERIFY_CONFIRMATIONS,
          commitment: config.SOLANA_COMMITMENT,
        }),
      ]),
    ),
  };
  const readiness: Record<string, ReadinessCheck> = network ? networkReadiness(network) : {};
  return { networks, network, ledger, x402, payees, terms, transferChains, readiness };
}

export type Payments = Awaited<ReturnType<typeof wirePayments>>;

/** How control is bought and proven: paid through x402 with session tokens, or the plan's free mode. */
export function purchasePath(
  config: Pick<Config, "SESSION_PRICE" | "SESSION_DURATION_MINUTES" | "ROBO402_CRASH_AFTER">,
  { access, robots }: Pick<Control, "access" | "robots">,
  { x402, networks, payees }: Payments,
  signIn: { readonly kv: Kv; readonly origins: SignInOrigins },
  logger: Logger,
) {
  if (!x402) return { controlAuth: walletHeaderAuth(access), buy: freePurchase(access) };
  const terms = sessionTerms(networks, payees, {
    price: config.SESSION_PRICE,
    minutes: config.SESSION_DURATION_MINUTES,
  });
  return {
    controlAuth: paidAuth(access, signIn),
    buy: paidPurchase(access, x402, robots, terms, logger, config.ROBO402_CRASH_AFTER),
  };
}
