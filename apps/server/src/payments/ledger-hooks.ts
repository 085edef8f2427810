import type { x402ResourceServer } from "@x402/core/server";
import { SettleError } from "@x402/core/types";
import type { Logger } from "pino";
import type { PaymentLedger } from "./ledger.ts";
import { mechanismOf } from "./mechanisms/index.ts";
import type { PaymentAttempt } from "./x402.ts";

/**
 * The ledger, written from x402's own lifecycle hooks: the one place a payment's row changes on its
 * way through verify and settle. Each hook reads and writes the attempt it is given as transport
 * context. x402 logs and ignores a hook that throws, so a write that fails aborts instead: no money
 * moves that the ledger did not write down first.
 */
export function recordInLedger(server: x402ResourceServer, ledger: PaymentLedger, logger: Logger): void {
  server.onAfterVerify(async ({ result, transportContext }) => {
    const attempt = transportContext as PaymentAttempt;
    if (!result.isValid || !attempt.record) return;
    const mechanism = mechanismOf(attempt.requirements.network);
    // The payer is the signer the facilitator verified; the header's own claim only looked things up.
    const payer = result.payer ? mechanism?.canonical(result.payer) : undefined;
    if (payer !== attempt.claimed.payer)
      return abort("payer_mismatch", `the payment's signer is not the payer it names (${payer ?? "none"})`);
    try {
      attempt.payment = await ledger.open({ ...attempt.entry, payer });
    } catch (error) {
      attempt.ledgerError = error;
      return abort("ledger_unavailable", "the payments ledger could not be written; nothing was charged");
    }
    if (!attempt.payment) return abort("already_used", "this payment authorization was already used");
  });

  server.onBeforeSettle(async ({ transportContext }) => {
    const attempt = transportContext as PaymentAttempt;
    const { payment, sessionId } = attempt;
    if (!payment || !sessionId)
      return abort("not_recorded", "the payment was not recorded before settlement");
    try {
      if (await ledger.settling(payment.id, sessionId)) return;
    } catch (error) {
      attempt.ledgerError = error;
      return abort("ledger_unavailable", "the payments ledger could not be written; nothing was charged");
    }
    return abort("not_settleable", "this payment was already decided (recovered after a restart)");
  });

  server.onAfterSettle(async ({ result, transportContext }) => {
    const { payment } = transportContext as PaymentAttempt;
    if (!payment) return;
    // Not written: the row stays `settling`, and recovery asks the chain, which has the answer.
    await ledger.settled(payment, result.transaction).catch((err) => {
      logger.error(
        { err, payment: payment.id, tx: result.transaction },
        "settlement not recorded; recovery will",
      );
    });
  });

  server.onSettleFailure(async ({ error, transportContext }) => {
    const { payment } = transportContext as PaymentAttempt;
    // Only the facilitator's answer says nothing moved; anything else (a timeout) leaves it to recovery.
    if (!payment || !(error instanceof SettleError)) return;
    const reason = error.errorMessage ?? error.errorReason ?? error.message;
    await ledger.failed(payment.id, reason).catch((err) => {
      logger.error({ err, payment: payment.id }, "failed settlement not recorded; recovery will");
    });
  });
}

const abort = (reason: string, message: string) => ({ abort: true as const, reason, message });
