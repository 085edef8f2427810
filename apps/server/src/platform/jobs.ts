import { deliverAfterRestart } from "../access/recover.ts";
import type { AccessService } from "../access/service.ts";
import type { ExecuteService } from "../execute/service.ts";
import { PaymentRecovery } from "../payments/recovery.ts";
import type { Payments } from "./payments.ts";
import type { Wiring } from "./shutdown.ts";

// How often interrupted purchases are looked for (besides at start).
const RECOVERY_INTERVAL_MS = 60_000;
// How often lapsed payment sessions are expired (and their watchers told).
const PAYMENT_SESSION_SWEEP_MS = 5_000;

/**
 * Works the payments a crash or a lost settlement answer left unfinished: now, then every minute. Resolves
 * to the run itself, for whoever wants one at once; in free mode there is nothing to work.
 */
export async function startRecovery(
  graceMs: number,
  access: AccessService,
  { x402, ledger, networks }: Payments,
  { logger, shutdown }: Wiring,
): Promise<() => Promise<void>> {
  if (!x402) return async () => {};
  const recovery = new PaymentRecovery(ledger, networks, logger, { graceMs, claimMs: RECOVERY_INTERVAL_MS });
  const deliver = deliverAfterRestart(access);
  const recover = () =>
    recovery
      .run(deliver, (payment) => access.abandonFor(payment.id))
      .catch((err) => logger.error({ err }, "payment recovery failed; will retry"));
  await recover();
  const timer = setInterval(recover, RECOVERY_INTERVAL_MS);
  shutdown.add(async () => clearInterval(timer));
  return recover;
}

/** Expires lapsed payment sessions every few seconds. */
export function startPaymentSessionExpiry(executions: ExecuteService, { logger, shutdown }: Wiring): void {
  const expiry = setInterval(
    () => executions.sweep().catch((err) => logger.error({ err }, "expiring payment sessions failed")),
    PAYMENT_SESSION_SWEEP_MS,
  );
  shutdown.add(async () => clearInterval(expiry));
}
