import type { Payment } from "../payments/ledger.ts";
import type { Delivery } from "../payments/recovery.ts";
import type { AccessService } from "./service.ts";
import { isPurchase } from "./terms.ts";

/**
 * How recovery finishes a payment a restart interrupted after it settled: a purchase opens the session it
 * paid for (or is owed back); a call's answer was lost with the process, so the caller never got what was
 * paid for.
 */
export function deliverAfterRestart(access: AccessService): (payment: Payment) => Promise<Delivery> {
  return (payment) =>
    isPurchase(payment)
      ? recoverPurchase(access, payment)
      : Promise.resolve({ refund: "the call's answer was lost in a restart" });
}

/**
 * Finishes a purchase a crash interrupted after its payment settled: the session it paid for opens,
 * or, when it no longer can, the payment is owed back. Never a payment settled with nothing to show.
 */
export async function recoverPurchase(
  access: AccessService,
  payment: Payment,
): Promise<{ granted: string } | { refund: string }> {
  const held = payment.sessionId ? await access.session(payment.sessionId) : undefined;
  if (!held || held.endedAt) return { refund: "the session it paid for could not be opened after a restart" };
  if (!held.pending) return { granted: held.id };
  const granted = await access.activate(held, payment.txHash);
  return granted ? { granted: held.id } : { refund: "the robot's hold lapsed before the session opened" };
}
