// Over 300 lines on purpose: one class, x402's resource server as the platform speaks it, with the types
// of the one payment path it serves; split, the ledger hooks' contract (PaymentAttempt) would live apart
// from the calls that fill it in.
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import { parsePaymentPayload } from "@x402/core/schemas";
import { FacilitatorResponseError, HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import {
  type PaymentPayload,
  type PaymentRequired,
  type PaymentRequirements,
  type Price,
  SettleError,
  type SettleResponse,
} from "@x402/core/types";
import {
  declarePaymentIdentifierExtension,
  extractPaymentIdentifier,
  PAYMENT_IDENTIFIER,
} from "@x402/extensions/payment-identifier";
import type { Logger } from "pino";
import { Refusal } from "../refusal.ts";
import { type Authorization, FAMILIES, familyOf } from "./families/index.ts";
import { type NewPayment, type Payment, type PaymentLedger, UNFINISHED } from "./ledger.ts";
import { type Payees, type PaymentNetwork, payeeOn, priceIn } from "./networks.ts";

/** One way to pay: a network the platform accepts, the price in its asset, and who is paid there. */
export interface OfferTerms {
  readonly network: PaymentNetwork;
  readonly price: Price;
  readonly payTo: string;
}

/** The ways to pay `dollars` to `payees`: one per accepted network they can be paid on. */
export function termsOn(networks: readonly PaymentNetwork[], dollars: string, payees: Payees): OfferTerms[] {
  return networks.flatMap((network) => {
    const payTo = payeeOn(network, payees);
    return payTo ? [{ network, price: priceIn(network.asset, dollars), payTo }] : [];
  });
}

/** A 402's facts and its PAYMENT-REQUIRED header; shared between requests, so read only. */
export interface Quote {
  readonly required: Readonly<PaymentRequired>;
  readonly header: string;
}

/** What a paid route sells to one request, decided by the route. */
export interface Offer {
  /** What the ledger says was bought, e.g. `access:finland-tumbller-01` or `execute:<robot id>`. */
  readonly resource: string;
  /** Each accepted network the seller can be paid on; the 402's `accepts[]` lists them in this order. */
  readonly accepts: readonly OfferTerms[];
  readonly description: string;
  /** x402 extensions declared on the 402 besides payment-identifier (bazaar discovery…). */
  readonly extensions?: Record<string, unknown>;
}

/** A payment header decoded: its payload and, for a network the platform knows, the authorization it claims. */
export interface DecodedPayment {
  readonly payload: PaymentPayload;
  readonly claimed: Authorization | undefined;
}

/**
 * A payment header, decoded once and matched to what the offer accepts. The payer it names is only a
 * claim until verification; the ledger hooks read and write the mutable part as the payment goes on.
 */
export interface PaymentAttempt {
  readonly payload: PaymentPayload;
  readonly requirements: PaymentRequirements;
  readonly claimed: Authorization;
  readonly identifier: string | undefined;
  /** The ledger row this payment becomes once verified (its payer set from the verified signer). */
  readonly entry: Omit<NewPayment, "payer">;
  readonly extensions: Record<string, unknown>;
  /**
   * The payer's earlier payment under the same identifier, read while the facilitator verifies: a retry
   * of a purchase already granted (or still under way) is never recorded again.
   */
  earlier?: Promise<Payment | undefined>;
  payment?: Payment;
  /** Milliseconds the ledger's hooks took inside verify and settle (a Server-Timing metric). */
  ledgerMs: number;
  /** Milliseconds spent waiting on the facilitator's verify and settle (a Server-Timing metric). */
  facilitatorMs: number;
  /** When the call to the facilitator under way began (performance.now()). */
  facilitatorFrom?: number;
  sessionId?: string;
  ledgerError?: unknown;
}

/** What verification made of a payment. */
export type Verification =
  /** Valid, and recorded in the ledger as `attempt.payment` under its verified signer. */
  | { kind: "verified" }
  /** The same purchase retried (x402's payment-identifier) after it was granted: nothing is charged again. */
  | { kind: "repeat"; payment: Payment }
  | { kind: "refused"; reason: string };

export type Settlement =
  | { ok: true; txHash: string; response: SettleResponse }
  | { ok: false; reason: string };

// The longest a buyer's authorization may wait between signing and settlement.
const MAX_TIMEOUT_SECONDS = 120;
// Offers differ per robot (price, wallet); their requirements are built once each and kept.
const REQUIREMENTS_CACHE_SIZE = 1000;

/**
 * x402 as its reference packages speak it, over one `x402ResourceServer`: the 402's requirements,
 * verification and settlement through the facilitator, the ledger written from its lifecycle hooks.
 * Transport-free: the HTTP middleware (and any other transport) decides what happens in between.
 */
export class X402Payments {
  readonly #server: x402ResourceServer;
  readonly #requirements = new Map<string, Promise<PaymentRequirements[]>>();
  /** Unpaid 402s, by the requirements they list (a price or payee change makes new ones), then URL and offer. */
  readonly #quotes = new WeakMap<PaymentRequirements[], Map<string, Promise<Quote>>>();
  #ready: Promise<void> | undefined;

  constructor(
    readonly networks: readonly PaymentNetwork[],
    private readonly ledger: PaymentLedger,
    private readonly logger: Logger,
    /** Hears every refused payment (metrics): refusals never become ledger rows, so this is their count. */
    private readonly onRefusal: (reason: string) => void = () => {},
  ) {
    const urls = [...new Set(networks.map((network) => network.facilitatorUrl))];
    this.#server = new x402ResourceServer(
      urls.map((url) => new HTTPFacilitatorClient({ url, timeoutMs: 30_000 })),
    );
    for (const network of networks)
      this.#server.register(network.id, FAMILIES[network.family].serverScheme());
    // Hooks run in the order they were added: the facilitator's calls are timed from after the ledger's
    // `before` hooks to before its `after` hooks, so the two shares never overlap.
    const answered = async ({ transportContext }: { transportContext?: unknown }) => {
      const attempt = transportContext as PaymentAttempt;
      if (attempt.facilitatorFrom === undefined) return;
      attempt.facilitatorMs += performance.now() - attempt.facilitatorFrom;
      attempt.facilitatorFrom = undefined;
    };
    this.#server.onAfterVerify(answered).onAfterSettle(answered).onSettleFailure(answered);
    ledger.recordFrom(this.#server, logger);
    const asking = async ({ transportContext }: { transportContext?: unknown }) => {
      (transportContext as PaymentAttempt).facilitatorFrom = performance.now();
    };
    this.#server.onBeforeVerify(asking).onBeforeSettle(asking);
  }

  /**
   * The payment a header carries, or a 400 saying what is wrong with it. x402 passes any JSON on, and
   * the facilitator answers an authorization it cannot read with a 500, so the shape is checked here
   * (by the network's own family), before either sees it.
   */
  decode(header: string): DecodedPayment {
    let decoded: unknown;
    try {
      decoded = decodePaymentSignatureHeader(header);
    } catch {
      throw this.#malformed("Payment header is not an x402 payment (expected base64-encoded JSON).");
    }
    const parsed = parsePaymentPayload(decoded);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) =>
        issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
      );
      throw this.#malformed(`Payment header is not an x402 payment payload (${problems.join("; ")}).`);
    }
    const payload = decoded as PaymentPayload;
    const named = payload.accepted?.network;
    // Parsed here once (a Solana transaction is decoded to find its payer); matching reuses it.
    const claimed = typeof named === "string" ? familyOf(named)?.authorization(payload) : undefined;
    if (claimed && "problem" in claimed) throw this.#malformed(`Payment is not ${claimed.problem}.`);
    return { payload, claimed };
  }

  /** What the offer accepts, as x402 requirements; the network named `preferred` first. */
  async requirements(offer: Offer, preferred?: string): Promise<PaymentRequirements[]> {
    const options = offer.accepts.map((terms) => ({
      scheme: "exact",
      network: terms.network.id,
      price: terms.price,
      payTo: terms.payTo,
      maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    }));
    const key = JSON.stringify(options);
    let built = this.#requirements.get(key);
    if (!built) {
      built = this.#facilitated(async () => {
        await this.#initialize();
        return this.#server.buildPaymentRequirementsFromOptions(options, {});
      });
      built.catch(() => this.#requirements.delete(key));
      if (this.#requirements.size >= REQUIREMENTS_CACHE_SIZE) this.#requirements.clear();
      this.#requirements.set(key, built);
    }
    const requirements = await built;
    const first = preferred && offer.accepts.find((terms) => terms.network.name === preferred)?.network.id;
    if (!first) return requirements;
    return [...requirements].sort((a, b) => Number(b.network === first) - Number(a.network === first));
  }

  /**
   * The 402's facts (what to pay and how, and why a payment was refused: `error`) and its header. The
   * unpaid one is the same for every request of a URL and offer, so it is built once (a quote is
   * answered more often than anything else on the money path).
   */
  paymentRequired(
    offer: Offer,
    requirements: PaymentRequirements[],
    url: string,
    error?: string,
  ): Promise<Quote> {
    if (error !== undefined) return this.#quote(offer, requirements, url, error);
    let quotes = this.#quotes.get(requirements);
    if (!quotes) {
      quotes = new Map();
      this.#quotes.set(requirements, quotes);
    }
    const key = JSON.stringify([url, offer.description, offer.extensions ?? null]);
    let quote = quotes.get(key);
    if (!quote) {
      if (quotes.size >= REQUIREMENTS_CACHE_SIZE) quotes.clear();
      quote = this.#quote(offer, requirements, url);
      quote.catch(() => quotes.delete(key));
      quotes.set(key, quote);
    }
    return quote;
  }

  async #quote(
    offer: Offer,
    requirements: PaymentRequirements[],
    url: string,
    error?: string,
  ): Promise<Quote> {
    const required = await this.#server.createPaymentRequiredResponse(
      requirements,
      { url, description: offer.description, mimeType: "application/json" },
      error,
      this.#extensions(offer),
    );
    return { required, header: encodePaymentRequiredHeader(required) };
  }

  /** The payment matched to what the offer accepts; undefined when it pays for something else. */
  match(
    { payload, claimed }: DecodedPayment,
    offer: Offer,
    requirements: PaymentRequirements[],
  ): PaymentAttempt | undefined {
    const matched = this.#server.findMatchingRequirements(requirements, payload);
    // The requirement matched is the one the payload names, so its family is the one `claimed` was read by.
    const family = matched && familyOf(matched.network);
    if (!matched || !family || !claimed) return undefined;
    const identifier = extractPaymentIdentifier(payload) ?? undefined;
    return {
      payload,
      requirements: matched,
      claimed,
      identifier,
      extensions: this.#extensions(offer),
      ledgerMs: 0,
      facilitatorMs: 0,
      entry: {
        network: matched.network,
        scheme: matched.scheme,
        asset: family.canonical(matched.asset),
        payTo: family.canonical(matched.payTo),
        amount: matched.amount,
        nonce: claimed.nonce,
        resource: offer.resource,
        paymentIdentifier: identifier ?? null,
        payload: JSON.stringify(payload),
        validBefore: claimed.validBefore,
      },
    };
  }

  /**
   * Asks the facilitator while the ledger is read for the payer's earlier payment under the same
   * identifier. A valid payment comes back recorded in the ledger (by its hooks) under its verified
   * signer; a retry of a granted purchase comes back as a repeat; a used authorization is a 409.
   */
  async verify(attempt: PaymentAttempt): Promise<Verification> {
    const { entry, claimed, identifier } = attempt;
    const verifying = this.#facilitated(() =>
      this.#server.verifyPayment(attempt.payload, attempt.requirements, attempt.extensions, attempt),
    );
    // Read once the facilitator's request is on its way: the embedded database runs on this thread, and
    // a read started first holds that request back.
    attempt.earlier = identifier
      ? afterIo().then(() => this.ledger.findByIdentifier(claimed.payer, identifier))
      : undefined;
    attempt.earlier?.catch(() => {}); // awaited below; a failure must not surface before that
    const result = await verifying;
    if (attempt.ledgerError) throw attempt.ledgerError;
    const earlier = await attempt.earlier;
    if (earlier?.status === "granted") {
      // The very payment that was granted, sent again, was verified the first time (the chain now calls
      // it used); a re-signed one proves its payer here. Neither is recorded nor settled. The same header
      // is taken only while its authorization was valid: whoever finds an old header somewhere (a log, a
      // proxy) cannot trade it for the session's new token; the payer can always sign again.
      const resent = earlier.payload === entry.payload && (earlier.validBefore?.getTime() ?? 0) > Date.now();
      if (resent || result.isValid) return { kind: "repeat", payment: earlier };
    } else if (earlier && UNFINISHED.includes(earlier.status)) {
      throw new Refusal(
        "conflict",
        `The purchase with payment identifier ${identifier} is still ${earlier.status}; retry in a moment.`,
      );
    }
    if (result.isValid && attempt.payment) return { kind: "verified" };
    // Refused, or its authorization is already in the ledger: a replay is a 409, whatever the chain says.
    const used = await this.ledger.find(entry.network, entry.asset, claimed.payer, entry.nonce);
    if (used && used.status !== "rejected") throw alreadyUsed(used);
    if (result.isValid) throw new Error("verified payment was not recorded");
    return { kind: "refused", reason: result.invalidReason ?? "invalid payment" };
  }

  /**
   * Settles a verified payment for `sessionId` (what it bought). Throws when the outcome is unknown (the
   * facilitator did not answer): the ledger then says `settling` and recovery asks the chain.
   */
  async settle(attempt: PaymentAttempt, sessionId: string): Promise<Settlement> {
    attempt.sessionId = sessionId;
    let response: SettleResponse;
    try {
      response = await this.#server.settlePayment(
        attempt.payload,
        attempt.requirements,
        attempt.extensions,
        attempt,
      );
    } catch (error) {
      if (attempt.ledgerError) throw attempt.ledgerError;
      if (!(error instanceof SettleError)) throw settlementUnknown();
      response = { ...error, success: false };
    }
    if (!response.success) {
      // Refused with no transaction sent (a hook's abort, the facilitator's refusal): nothing moved.
      if (response.transaction) throw settlementUnknown();
      return { ok: false, reason: response.errorMessage ?? response.errorReason ?? "settlement failed" };
    }
    return { ok: true, txHash: response.transaction, response };
  }

  /** A payment refused before verification succeeded: counted and logged, never written to the ledger. */
  refused(reason: string, payer: string | undefined): void {
    this.onRefusal(reason);
    this.logger.info({ reason, claimedPayer: payer }, "payment refused");
  }

  /** A verified payment that will not be settled: the robot was busy, offline, or its service failed. */
  async reject(payment: Payment, reason: string): Promise<void> {
    await this.ledger.rejected(payment.id, reason);
  }

  async granted(payment: Payment, sessionId: string): Promise<void> {
    await this.ledger.granted(payment.id, sessionId);
  }

  async refundDue(payment: Payment, reason: string): Promise<void> {
    await this.ledger.refundDue(payment.id, reason);
  }

  #malformed(detail: string): Refusal {
    this.refused("malformed", undefined);
    return new Refusal("malformed", detail);
  }

  #extensions(offer: Offer): Record<string, unknown> {
    // Clients may name each purchase, so a retry after a lost answer is not paid twice.
    return { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(), ...offer.extensions };
  }

  /** Learns what the facilitator supports, once; a failure is retried on the next request. */
  #initialize(): Promise<void> {
    this.#ready ??= this.#server.initialize().catch((error) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #facilitated<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof FacilitatorResponseError || (error as Error).name?.startsWith("Facilitator")) {
        throw new Refusal(
          "unavailable",
          `Payment facilitator unavailable: ${(error as Error).message}. Try again shortly.`,
        );
      }
      throw error;
    }
  }
}

/** Resolves after the I/O this turn of the event loop queued (a request's first bytes) is written. */
const afterIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The facilitator did not say whether the money moved: the chain will, and recovery asks it. */
function settlementUnknown(): Refusal {
  return new Refusal(
    "unavailable",
    "The payment facilitator did not confirm the settlement. Nothing is lost: the purchase completes (or is refunded) once the chain answers; retry with the same payment identifier.",
  );
}

/** The refusal of a payment that was already used: it is charged once, whatever is sent again. */
export function alreadyUsed(payment: Payment): Refusal {
  const tx = payment.txHash ? `, tx ${payment.txHash}` : "";
  return new Refusal(
    "conflict",
    `This payment authorization was already used (${payment.status}${tx}); a payment is charged once. Sign a new one to buy again.`,
  );
}
