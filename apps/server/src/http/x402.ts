import { encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import type { Context } from "hono";
import { endTime, setMetric, startTime } from "hono/timing";
import type { Payment } from "../payments/ledger.ts";
import type { Offer, PaymentAttempt, Settlement, X402Payments } from "../payments/x402.ts";
import { HttpError } from "./errors.ts";

/** A payment verified and recorded: its ledger row (payer = the verified signer) and the terms it met. */
export interface VerifiedPayment {
  readonly payment: Payment;
  readonly network: string;
}

/**
 * What a route hands back when it granted what was paid for: the payment is settled for `sessionId`,
 * then `deliver` answers (should it throw, what was paid for cannot be had: the payment is owed back);
 * a settlement the chain refused calls `undo` (nothing moved) instead.
 */
export interface Grant {
  readonly sessionId: string;
  deliver(settlement: Settlement & { ok: true }): Promise<Response>;
  undo(reason: string): Promise<void>;
}

export type PaidWork = (payment: VerifiedPayment) => Promise<Grant>;

export interface PaidRoute {
  /**
   * What this request buys. `paid` says whether a payment came with it: without one, a robot that is
   * busy or offline is refused here, before anyone is asked for money.
   */
  offer(paid: boolean): Promise<Offer>;
  /** The 402 as the route answers it (pay-per-call adds the plan's payment session). */
  paymentRequired?(
    required: PaymentRequired,
    body: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<Response>;
  /** A purchase granted before and retried under the same payment identifier: nothing is charged again. */
  repeat?(payment: Payment): Promise<Response>;
}

/**
 * The one x402 path every paid route takes, in the shape of `@x402/hono`'s middleware: the payment
 * header is decoded once, matched to the route's offer, checked against the ledger, verified (the
 * ledger hooks record it), then the route does its work (hold the robot, run the service) and the
 * payment is settled only if the route granted. What the route did not grant is rejected in the
 * ledger with the reason, and nothing moves.
 */
export function x402Route(payments: X402Payments) {
  return async (c: Context, route: PaidRoute, work: PaidWork): Promise<Response> => {
    const header = c.req.header("payment-signature") ?? c.req.header("x-payment");
    const decoded = header === undefined ? undefined : payments.decode(header);
    const offer = await timed(c, "offer", () => route.offer(decoded !== undefined));
    const requirements = await payments.requirements(offer, c.req.header("x-payment-network")?.trim());
    const refuse: Refuse = async (error, detail = paymentDetail(error)) => {
      if (error !== undefined) payments.refused(error, attempt?.claimed.payer);
      const { required, header } = await payments.paymentRequired(offer, requirements, c.req.url, error);
      const headers = { "PAYMENT-REQUIRED": header };
      const body = { detail, ...required };
      if (route.paymentRequired) return route.paymentRequired(required, body, headers);
      return c.json(body, 402, headers);
    };
    let attempt: PaymentAttempt | undefined;
    if (!decoded) return refuse(undefined);

    attempt = payments.match(decoded, offer, requirements);
    if (!attempt) return refuse("No matching payment requirements");
    const verdict = await timed(c, "verify", () => payments.verify(attempt as PaymentAttempt));
    if (verdict.kind === "refused") return refuse(verdict.reason);
    if (verdict.kind === "repeat") {
      if (!route.repeat)
        throw new HttpError(
          409,
          `This payment (identifier ${verdict.payment.paymentIdentifier}) already bought ${verdict.payment.resource}; it is charged once. Pay again to buy again.`,
        );
      return route.repeat(verdict.payment);
    }
    try {
      return await settleGranted(c, payments, attempt, work, refuse);
    } finally {
      // Where verify and settle spend their time: the ledger's writes, and the facilitator's answers.
      setMetric(c, "ledger", attempt.ledgerMs, "ledger writes inside verify and settle");
      setMetric(c, "facilitator", attempt.facilitatorMs, "waiting on the facilitator's verify and settle");
    }
  };
}

/** Answers 402 with x402's facts and a sentence (`detail`) saying why. */
type Refuse = (error: string | undefined, detail?: string) => Promise<Response>;

async function settleGranted(
  c: Context,
  payments: X402Payments,
  attempt: PaymentAttempt,
  work: PaidWork,
  refuse: Refuse,
): Promise<Response> {
  const payment = attempt.payment as Payment;
  let grant: Grant;
  try {
    grant = await timed(c, "work", () => work({ payment, network: attempt.requirements.network }));
  } catch (error) {
    // Not granted (busy, offline, a failed service, a wrong wallet named): nothing is settled.
    await payments.reject(payment, (error as Error).message);
    throw error;
  }
  // Should settlement not answer, its outcome is unknown: what was held stays held until recovery asks the chain.
  const settled = await timed(c, "settle", () => payments.settle(attempt, grant.sessionId));
  if (!settled.ok) {
    await grant.undo(settled.reason);
    // Refused before the ledger said `settling` (its own hook aborted): nothing moved, so it is rejected.
    await payments.reject(payment, settled.reason);
    return refuse(settled.reason, `Payment refused at settlement: ${settled.reason}. You were not charged.`);
  }
  let answer: Response;
  try {
    answer = await timed(c, "deliver", () => grant.deliver(settled));
  } catch (error) {
    await payments.refundDue(payment, (error as Error).message);
    throw error;
  }
  await timed(c, "granted", () => payments.granted(payment, grant.sessionId));
  const proof = encodePaymentResponseHeader(settled.response);
  // v1 clients (the upstream React app among them) read the answer under its v1 name.
  answer.headers.set("PAYMENT-RESPONSE", proof);
  answer.headers.set("X-PAYMENT-RESPONSE", proof);
  return answer;
}

/** A person's sentence for the 402: what to do without a payment, why a payment was refused. */
function paymentDetail(error: string | undefined): string {
  return error === undefined
    ? "Payment required: pay as `accepts` describes and retry."
    : `Payment refused: ${error}`;
}

/** Runs one stage of a paid request under a Server-Timing metric, so where the time goes is visible. */
async function timed<T>(c: Context, stage: string, run: () => Promise<T>): Promise<T> {
  startTime(c, stage);
  try {
    return await run();
  } finally {
    endTime(c, stage);
  }
}
