import { decodePaymentSignatureHeader } from "@x402/core/http";
import { parsePaymentPayload } from "@x402/core/schemas";
import type { HTTPResponseInstructions } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { extractPaymentIdentifier } from "@x402/extensions/payment-identifier";
import type { Context } from "hono";
import type { Logger } from "pino";
import { HttpError } from "../http/errors.ts";
import { type Offer, type PaymentGate, refusalBody, type SettleOutcome } from "./gate.ts";
import type { NewPayment, Payment, PaymentLedger } from "./ledger.ts";
import { MECHANISMS, mechanismOf } from "./mechanisms/index.ts";

export interface VerifiedPayment {
  readonly payment: Payment;
  readonly offer: Offer;
  readonly payload: PaymentPayload;
  readonly requirements: PaymentRequirements;
}

export type Checkout =
  | { kind: "respond"; response: HTTPResponseInstructions }
  | { kind: "verified"; verified: VerifiedPayment }
  /** A retry (same payment-identifier) of a purchase that was already granted: nothing is charged again. */
  | { kind: "repeat"; payment: Payment };

/** Takes payments: x402 through the gate, every step written to the ledger before the next. */
export class PaymentService {
  constructor(
    private readonly gate: PaymentGate,
    private readonly ledger: PaymentLedger,
    private readonly logger: Logger,
  ) {}

  /**
   * Without a payment: the 402 to answer. With one: verified and recorded, or refused with the
   * facilitator's reason (402), as malformed (400), or as already used (409).
   */
  async checkout(c: Context, resource: string, offer: Offer): Promise<Checkout> {
    const header = c.req.header("payment-signature") ?? c.req.header("x-payment");
    let repeat: Payment | undefined;
    if (header !== undefined) {
      const offered = this.#offered(this.#decodeOrRefuse(header), resource);
      repeat = await this.#repeatOf(offered);
      // The very payment that was granted, sent again: its signature was verified the first time.
      if (repeat && repeat.payload === offered?.payload) return { kind: "repeat", payment: repeat };
      // A replay is known from the ledger alone, before the facilitator is asked anything.
      if (!repeat) await this.#refuseIfUsed(offered);
    }
    const result = await this.gate.process(c, offer);
    if (result.type === "no-payment-required")
      throw new Error(`x402 route for ${resource} is not configured`);
    if (result.type === "payment-error") {
      if (header !== undefined) await this.#rejectUnverified(header, result.response, resource);
      return { kind: "respond", response: result.response };
    }
    // A re-signed retry proves the payer through verification, and is then never settled.
    if (repeat) return { kind: "repeat", payment: repeat };
    const { paymentPayload: payload, paymentRequirements: requirements } = result;
    const entry = this.#entry(payload, requirements, resource);
    if (!entry)
      throw new HttpError(400, "Only 'exact' payments on the networks this server accepts are taken here.");
    const payment = await this.ledger.open(entry);
    if (!payment) {
      await this.#refuseIfUsed(entry);
      throw new HttpError(409, "This payment is already being processed; a payment is charged once.");
    }
    return { kind: "verified", verified: { payment, payload, requirements, offer } };
  }

  /**
   * x402's payment-identifier: a client that lost the answer to its purchase retries with the same id
   * and gets what it bought, instead of paying twice. 409 while the first attempt is still settling.
   */
  async #repeatOf(entry: NewPayment | undefined): Promise<Payment | undefined> {
    if (!entry?.paymentIdentifier) return undefined;
    const prior = await this.ledger.findByIdentifier(entry.payer, entry.paymentIdentifier);
    if (!prior || prior.status === "rejected" || prior.status === "failed") return undefined;
    if (prior.status === "granted") return prior;
    throw new HttpError(
      409,
      `The purchase with payment identifier ${entry.paymentIdentifier} is still ${prior.status}; retry in a moment.`,
    );
  }

  async #refuseIfUsed(entry: NewPayment | undefined): Promise<void> {
    if (!entry) return;
    const used = await this.ledger.find(entry.network, entry.asset, entry.nonce);
    if (used && used.status !== "rejected") throw alreadyUsed(used);
  }

  /** The ledger entry a payment header claims, judged against the requirements it says it accepts. */
  #offered(payload: PaymentPayload, resource: string): NewPayment | undefined {
    const accepted = (payload as { accepted?: Partial<Record<keyof PaymentRequirements, unknown>> }).accepted;
    const named = ["network", "scheme", "asset", "payTo", "amount"] as const;
    if (!accepted || !named.every((field) => typeof accepted[field] === "string")) return undefined;
    return this.#entry(payload, accepted as PaymentRequirements, resource);
  }

  /**
   * Settles a verified payment for what it bought (`sessionId`: an access session or a payment session);
   * the ledger says "settling" before and the outcome after.
   */
  async settle(c: Context, verified: VerifiedPayment, sessionId: string): Promise<SettleOutcome> {
    const { payment } = verified;
    await this.ledger.update(payment.id, { status: "settling", sessionId });
    let outcome: SettleOutcome;
    try {
      outcome = await this.gate.settle(c, verified.offer, verified.payload, verified.requirements);
    } catch (error) {
      // Whether it reached the chain is unknown: left "settling" for recovery to ask the chain.
      this.logger.error(
        { payment: payment.id, err: error },
        "settlement interrupted; recovery will check the chain",
      );
      throw error;
    }
    if (outcome.ok) await this.ledger.update(payment.id, { status: "settled", txHash: outcome.txHash });
    else await this.ledger.update(payment.id, { status: "failed", reason: outcome.reason });
    return outcome;
  }

  /** A verified payment that will not be settled (robot busy or offline, wrong wallet claimed). */
  reject(payment: Payment, reason: string): Promise<void> {
    return this.ledger.update(payment.id, { status: "rejected", reason });
  }

  granted(payment: Payment, sessionId: string): Promise<void> {
    return this.ledger.update(payment.id, { status: "granted", sessionId });
  }

  refundDue(payment: Payment, reason: string): Promise<void> {
    this.logger.error(
      { payment: payment.id, payer: payment.payer, reason },
      "payment settled without a session: refund due",
    );
    return this.ledger.update(payment.id, { status: "refund_due", reason });
  }

  /**
   * After a crash: verified payments were never settled (rejected); settling ones are settled or not,
   * as the chain says. Returns the settled payments whose session still has to be granted, and those
   * that will never be settled (whose robot holds must be let go).
   */
  async recover(graceMs: number): Promise<{ owed: Payment[]; dropped: Payment[] }> {
    const owed: Payment[] = [];
    const dropped: Payment[] = [];
    // Rows younger than the grace period may belong to a purchase still under way.
    const settledBefore = Date.now() - graceMs;
    for (const payment of await this.ledger.unfinished()) {
      if (payment.updatedAt.getTime() > settledBefore) continue;
      if (payment.status === "verified") {
        await this.reject(payment, "server stopped before settlement; nothing was charged");
        dropped.push(payment);
        continue;
      }
      if (payment.status === "settling") {
        const network = this.gate.network(payment.network);
        const settlement = network && (await MECHANISMS[network.family].settled(network, payment));
        if (settlement === undefined) {
          this.logger.error(
            { payment: payment.id, payer: payment.payer, network: payment.network, nonce: payment.nonce },
            "settlement interrupted on a chain that cannot say whether it landed; check the payer's transfer by hand",
          );
          continue;
        }
        if (!settlement.landed) {
          await this.ledger.update(payment.id, {
            status: "failed",
            reason: "settlement did not reach the chain",
          });
          dropped.push(payment);
          continue;
        }
        await this.ledger.update(payment.id, { status: "settled", txHash: settlement.txHash });
        owed.push({ ...payment, status: "settled", txHash: settlement.txHash });
        continue;
      }
      owed.push(payment);
    }
    return { owed, dropped };
  }

  #entry(
    payload: PaymentPayload,
    requirements: PaymentRequirements,
    resource: string,
  ): NewPayment | undefined {
    // A payment for a network not accepted here is still recorded, refused, under its own family's terms.
    const mechanism = mechanismOf(requirements.network);
    if (!mechanism) return undefined;
    const auth = mechanism.authorization(payload);
    if ("problem" in auth) return undefined;
    return {
      network: requirements.network,
      scheme: requirements.scheme,
      asset: mechanism.canonical(requirements.asset),
      payer: auth.payer,
      payTo: mechanism.canonical(requirements.payTo),
      amount: requirements.amount,
      nonce: auth.nonce,
      resource,
      paymentIdentifier: extractPaymentIdentifier(payload),
      payload: JSON.stringify(payload),
    };
  }

  async #rejectUnverified(
    header: string,
    response: HTTPResponseInstructions,
    resource: string,
  ): Promise<void> {
    const entry = this.#offered(this.#decodeOrRefuse(header), resource);
    if (!entry) return;
    // x402 v2 gives the reason in the PAYMENT-REQUIRED header, not the body: read it where refusals are.
    const { error } = refusalBody(response);
    await this.ledger.reject(entry, typeof error === "string" ? error : `refused with ${response.status}`);
  }

  /**
   * The payment a header carries, or a 400 saying what is wrong with it. x402 passes any JSON on (`null`
   * crashed the ledger lookup, `0` passed for no payment at all), and the facilitator answers an
   * authorization it cannot read with a 500, so the shape is checked here (by the network's own
   * family's mechanism), before either sees it.
   */
  #decodeOrRefuse(header: string): PaymentPayload {
    let decoded: unknown;
    try {
      decoded = decodePaymentSignatureHeader(header);
    } catch {
      throw new HttpError(400, "Payment header is not an x402 payment (expected base64-encoded JSON).");
    }
    const parsed = parsePaymentPayload(decoded);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) =>
        issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
      );
      throw new HttpError(400, `Payment header is not an x402 payment payload (${problems.join("; ")}).`);
    }
    const payload = decoded as PaymentPayload;
    const named = (payload as { accepted?: { network?: unknown } }).accepted?.network;
    const auth = typeof named === "string" ? mechanismOf(named)?.authorization(payload) : undefined;
    if (auth && "problem" in auth) throw new HttpError(400, `Payment is not ${auth.problem}.`);
    return payload;
  }
}

/** The refusal of a payment that was already used: it is charged once, whatever is sent again. */
export function alreadyUsed(payment: Payment): HttpError {
  const tx = payment.txHash ? `, tx ${payment.txHash}` : "";
  return new HttpError(
    409,
    `This payment authorization was already used (${payment.status}${tx}); a payment is charged once. Sign a new one to buy again.`,
  );
}
