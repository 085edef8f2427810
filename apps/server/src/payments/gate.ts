import { decodePaymentRequiredHeader } from "@x402/core/http";
import {
  FacilitatorResponseError,
  HTTPFacilitatorClient,
  type HTTPProcessResult,
  type HTTPRequestContext,
  type HTTPResponseInstructions,
  x402HTTPResourceServer,
  x402ResourceServer,
} from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements, Price } from "@x402/core/types";
import { declarePaymentIdentifierExtension, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";
import { HonoAdapter } from "@x402/hono";
import type { Context } from "hono";
import { HttpError } from "../http/errors.ts";
import { MECHANISMS } from "./mechanisms/index.ts";
import { type Payees, type PaymentNetwork, payeeOn, priceIn } from "./networks.ts";

export type SettleOutcome =
  | { ok: true; txHash: string; headers: Record<string, string> }
  | { ok: false; reason: string; response: HTTPResponseInstructions };

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

/** What a paid route sells to this request: x402's route configuration, decided by the route itself. */
export interface Offer {
  /** The request's path (the robot's own URL), e.g. `/api/execute/5f0c…`. */
  readonly path: string;
  /** Each accepted network the seller can be paid on; the 402's `accepts[]` lists them in this order. */
  readonly accepts: readonly OfferTerms[];
  readonly description: string;
  /** x402 extensions declared on the 402 besides payment-identifier (bazaar discovery…). */
  readonly extensions?: Record<string, unknown>;
}

// Each robot's price and wallet make their own x402 route; built once per distinct offer and kept.
const ROUTE_CACHE_SIZE = 1000;

/**
 * x402 as its reference packages speak it: the 402 and its PAYMENT-REQUIRED header, verification and
 * settlement through the facilitator. The platform decides what happens between verify and settle.
 */
export class PaymentGate {
  readonly #server: x402ResourceServer;
  readonly #routes = new Map<string, x402HTTPResourceServer>();
  #ready: Promise<void> | undefined;

  /** `networks`: every network payments are taken on, each through its family's x402 scheme. */
  constructor(readonly networks: readonly PaymentNetwork[]) {
    const urls = [...new Set(networks.map((network) => network.facilitatorUrl))];
    this.#server = new x402ResourceServer(
      urls.map((url) => new HTTPFacilitatorClient({ url, timeoutMs: 30_000 })),
    );
    for (const network of networks)
      this.#server.register(network.id, MECHANISMS[network.family].serverScheme());
  }

  /** The accepted network x402 calls `id`, if any. */
  network(id: string): PaymentNetwork | undefined {
    return this.networks.find((network) => network.id === id);
  }

  /** The 402 (no payment), a refusal of the payment, or the verified payment. */
  async process(c: Context, offer: Offer): Promise<HTTPProcessResult> {
    const http = await this.#route(offer);
    return this.#facilitated(() => http.processHTTPRequest(this.#context(c, offer)));
  }

  async settle(
    c: Context,
    offer: Offer,
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ): Promise<SettleOutcome> {
    const http = await this.#route(offer);
    const result = await this.#facilitated(() =>
      http.processSettlement(payload, requirements, undefined, { request: this.#context(c, offer) }),
    );
    if (result.success) {
      // v1 clients (the upstream React app among them) read the answer under its v1 name.
      const proof = result.headers["PAYMENT-RESPONSE"];
      return {
        ok: true,
        txHash: result.transaction,
        headers: proof ? { ...result.headers, "X-PAYMENT-RESPONSE": proof } : result.headers,
      };
    }
    return { ok: false, reason: result.errorMessage ?? result.errorReason, response: result.response };
  }

  #context(c: Context, offer: Offer): HTTPRequestContext {
    const adapter = new HonoAdapter(c);
    return {
      adapter,
      path: offer.path,
      method: "POST",
      paymentHeader: adapter.getHeader("payment-signature") || adapter.getHeader("x-payment"),
    };
  }

  /** The x402 route for `offer`: one per distinct price, wallet and description, shared by its buyers. */
  async #route(offer: Offer): Promise<x402HTTPResourceServer> {
    const accepts = offer.accepts.map((terms) => ({
      scheme: "exact",
      network: terms.network.id,
      price: terms.price,
      payTo: terms.payTo,
      maxTimeoutSeconds: 120,
    }));
    const key = JSON.stringify([offer.path, accepts, offer.description, offer.extensions]);
    let http = this.#routes.get(key);
    if (!http) {
      http = new x402HTTPResourceServer(this.#server, {
        [`POST ${offer.path}`]: {
          accepts,
          description: offer.description,
          mimeType: "application/json",
          // Clients may name each purchase, so a retry after a lost answer is not paid twice.
          extensions: { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(), ...offer.extensions },
        },
      });
      if (this.#routes.size >= ROUTE_CACHE_SIZE) this.#routes.clear();
      this.#routes.set(key, http);
    }
    await this.#initialize();
    return http;
  }

  /** Learns what the facilitator supports, once; a failure is retried on the next purchase. */
  #initialize(): Promise<void> {
    this.#ready ??= this.#facilitated(() => this.#server.initialize()).catch((error) => {
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
        throw new HttpError(
          503,
          `Payment facilitator unavailable: ${(error as Error).message}. Try again shortly.`,
        );
      }
      throw error;
    }
  }
}

/**
 * x402 v2 puts the 402's facts in the PAYMENT-REQUIRED header and leaves the body empty. Our body repeats
 * them (so clients that read bodies, and people, see them) with a `detail` sentence like every other error.
 */
export function refusalBody(response: HTTPResponseInstructions): Record<string, unknown> {
  const body = (response.body ?? {}) as Record<string, unknown>;
  const header = Object.entries(response.headers).find(
    ([name]) => name.toLowerCase() === "payment-required",
  )?.[1];
  const required = header ? (decodePaymentRequiredHeader(header) as unknown as Record<string, unknown>) : {};
  const merged = { ...required, ...body };
  const reason = typeof merged.error === "string" ? merged.error : undefined;
  const detail = reason
    ? `Payment refused: ${reason}`
    : "Payment required: pay as `accepts` describes and retry.";
  return { detail, ...merged };
}
