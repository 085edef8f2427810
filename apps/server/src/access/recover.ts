import type { Payment } from "../payments/ledger.ts";
import type { Delivery } from "../payments/recovery.ts";
import { isPurchase, recoverPurchase } from "./purchase.ts";
import type { AccessService } from "./service.ts";

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
