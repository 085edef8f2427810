import {
  AccessConfigResponse,
  CommandResponse,
  type MotorCommand,
  PurchaseResponse,
  ReleaseResponse,
  RobotStatusResponse,
  SessionResponse,
  type Velocity,
  VelocityResponse,
} from "@robo402/protocol";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { generatePaymentId } from "@x402/extensions/payment-identifier";
import type { z } from "zod";
import { payingFetch, type SolanaPayer, signIn } from "./payer.ts";

export interface Robo402ClientOptions {
  /** The platform, e.g. http://localhost:8000 */
  readonly baseUrl: string;
  /** Pays the 402s with this EVM key. Without a key, only free-mode servers can be bought from. */
  readonly privateKey?: `0x${string}`;
  /** Pays the 402s on Solana with this keypair (where the server accepts Solana). */
  readonly solana?: SolanaPayer;
  /** Free mode's identity (X-Wallet-Address); paid mode ignores it in favour of the payer. */
  readonly wallet?: string;
  /** The most one payment may cost, in base units (default 1_000_000: $1 of USDC). */
  readonly maxAmount?: bigint;
  /** A session token from an earlier purchase. */
  readonly token?: string;
  /**
   * Prove the paying wallet on every control call with a SIGN-IN-WITH-X signature instead of the
   * session token (needs `privateKey`).
   */
  readonly signIn?: boolean;
  readonly fetch?: typeof fetch;
}

/** What went wrong, as the API said it. */
export class Robo402Error extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(`HTTP ${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    this.name = "Robo402Error";
  }
}

export interface Purchase extends PurchaseResponse {
  /** The settlement as the facilitator reported it (paid mode). */
  readonly settlement?: { transaction: string; network: string; payer?: string };
}

/** The platform's API for programs: buy time on a robot, drive it, watch it, let it go. */
export class Robo402Client {
  #token: string | undefined;
  #network: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #pay: ReturnType<typeof payingFetch> | undefined;

  constructor(private readonly options: Robo402ClientOptions) {
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    this.#pay =
      options.privateKey || options.solana
        ? payingFetch({
            privateKey: options.privateKey,
            solana: options.solana,
            maxAmount: options.maxAmount ?? 1_000_000n,
            fetch: this.#fetch,
          })
        : this.#fetch;
  }

  /** The session token this client drives with (after `buy`). */
  get token(): string | undefined {
    return this.#token;
  }

  async config() {
    const response = await this.#fetch(this.#url("/api/v1/access/config"));
    return AccessConfigResponse.parse(await this.#body(response));
  }

  robot(robotHost: string) {
    return this.#json(
      RobotStatusResponse,
      `/api/v1/robot/status?robot_host=${encodeURIComponent(robotHost)}`,
    );
  }

  /**
   * Buys time on a robot, paying the 402 if the server asks for one. Each purchase carries a payment
   * identifier, so when the answer is lost (a dropped connection) the retry gets the same session back
   * instead of paying twice.
   */
  async buy(robotHost: string): Promise<Purchase> {
    const url = this.#url("/api/v1/access/purchase");
    const init = () => ({
      method: "POST",
      headers: this.#headers({ "content-type": "application/json" }),
      body: JSON.stringify({ robot_host: robotHost }),
    });
    const response = this.#pay
      ? await this.#pay(url, init(), { paymentId: generatePaymentId() })
      : await this.#fetch(url, init());
    const purchase = PurchaseResponse.parse(await this.#body(response));
    this.#token = purchase.session.token ?? this.#token;
    const proof = response.headers.get("payment-response");
    return proof ? { ...purchase, settlement: decodePaymentResponseHeader(proof) } : purchase;
  }

  session() {
    return this.#json(SessionResponse, "/api/v1/access/status");
  }

  drive(command: MotorCommand) {
    return this.#json(CommandResponse, `/api/v1/robot/motor/${command}`);
  }

  /**
   * A velocity robot's speeds, each from -1 to 1 (fractions of its limits). The platform stops it when
   * none came for its watchdog time (at most 1 s): send about ten a second while it should move.
   */
  velocity(velocity: Velocity) {
    return this.#json(VelocityResponse, "/api/v1/robot/velocity", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(velocity),
    });
  }

  /** The robot's latest camera frame, as JPEG bytes. */
  async frame(): Promise<Uint8Array> {
    const url = this.#url("/api/v1/robot/camera/frame");
    const response = await this.#fetch(url, { headers: await this.#authorized(url) });
    if (!response.ok) await this.#body(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  async release() {
    const released = await this.#json(ReleaseResponse, "/api/v1/access/release", { method: "POST" });
    this.#token = undefined;
    return released;
  }

  async #json<T extends z.ZodType>(schema: T, path: string, init: RequestInit = {}): Promise<z.infer<T>> {
    const url = this.#url(path);
    const headers = { ...(init.headers as Record<string, string>), ...(await this.#authorized(url)) };
    const response = await this.#fetch(url, { ...init, headers });
    return schema.parse(await this.#body(response));
  }

  /** Headers proving who calls: a SIGN-IN-WITH-X signature when asked for, else the session token. */
  async #authorized(url: string): Promise<Record<string, string>> {
    const { privateKey } = this.options;
    if (!this.options.signIn || !privateKey) return this.#headers();
    this.#network ??= (await this.config()).network ?? "eip155:1";
    return { "sign-in-with-x": await signIn(privateKey, url, this.#network) };
  }

  async #body(response: Response): Promise<unknown> {
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const detail = (body as { detail?: unknown; error?: unknown } | undefined) ?? {};
      throw new Robo402Error(response.status, detail.detail ?? detail.error ?? response.statusText);
    }
    return body;
  }

  #url(path: string): string {
    return new URL(path, this.options.baseUrl).toString();
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...extra,
      ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
      ...(this.options.wallet ? { "x-wallet-address": this.options.wallet } : {}),
    };
  }
}
