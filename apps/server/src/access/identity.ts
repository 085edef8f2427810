import { parseSIWxHeader, validateSIWxMessage, verifySIWxSignature } from "@x402/extensions/sign-in-with-x";
import type { Context } from "hono";
import type { SignInOrigins } from "../auth/origins.ts";
import type { Kv } from "../kv/index.ts";
import { Refusal } from "../refusal.ts";
import type { AccessService, HeldRobot } from "./service.ts";
import type { AccessSession } from "./store.ts";

/** Who is calling: the session a request speaks for. One implementation per payment mode. */
export interface ControlAuth {
  /** The caller's live session, if any; refuses (401) a request that carries no credentials at all. */
  session(c: Context): Promise<AccessSession | undefined>;
  /** The caller's live session and robot; 401 without credentials, 403 without a session. */
  heldRobot(c: Context): Promise<HeldRobot>;
  /**
   * Like `heldRobot`, for the camera stream only: an <img> cannot send headers, so the credential may
   * come as `?token=` (paid) or `?wallet=` (free) instead. Nowhere else, since URLs end up in logs.
   */
  streamHeldRobot(c: Context): Promise<HeldRobot>;
}

/**
 * The first plan's free mode: the wallet named in `X-Wallet-Address` is taken at its word. A missing
 * header is simply "no session" for status, as the plan has it.
 */
export function walletHeaderAuth(access: AccessService): ControlAuth {
  const wallet = (c: Context) => c.req.header("x-wallet-address")?.trim() || undefined;
  const heldBy = async (caller: string | undefined) => {
    if (!caller)
      throw new Refusal("unauthenticated", "Wallet address required. Include X-Wallet-Address header.");
    const session = await access.forWallet(caller);
    if (!session) throw new Refusal("forbidden", "No active session. Purchase access first.");
    return access.heldRobot(session);
  };
  return {
    session: async (c) => {
      const caller = wallet(c);
      return caller ? access.forWallet(caller) : undefined;
    },
    heldRobot: (c) => heldBy(wallet(c)),
    streamHeldRobot: (c) => heldBy(wallet(c) ?? (c.req.query("wallet")?.trim() || undefined)),
  };
}

export interface PaidAuthOptions {
  /** Remembers SIWX nonces, so a captured sign-in cannot be replayed. */
  readonly kv: Kv;
  /** The origins sign-ins must be bound to, from configuration: never the request's Host. */
  readonly origins: SignInOrigins;
}

// How old a SIWX sign-in may be (x402's own default), and how long its nonce is remembered.
const SIWX_MAX_AGE_MS = 5 * 60_000;

/**
 * Paid mode: proof of the paying wallet, never a header anyone can set. Either the bearer token handed
 * to the payer with its purchase, or a SIGN-IN-WITH-X (x402's CAIP-122 extension) signed by the wallet
 * that paid, so an agent that paid with @x402/fetch can drive without keeping a token.
 */
export function paidAuth(access: AccessService, options: PaidAuthOptions): ControlAuth {
  const bySignIn = async (header: string) => {
    let payload: ReturnType<typeof parseSIWxHeader>;
    try {
      payload = parseSIWxHeader(header);
    } catch {
      throw new Refusal("unauthenticated", "SIGN-IN-WITH-X is not a valid sign-in (expected base64 JSON).");
    }
    const origin = options.origins.byHost(payload.domain);
    if (!origin) {
      throw new Refusal(
        "unauthenticated",
        `Sign-in refused: it was signed for '${payload.domain}', not for ${options.origins.describe()}.`,
      );
    }
    const valid = await validateSIWxMessage(payload, origin, { maxAge: SIWX_MAX_AGE_MS });
    if (!valid.isValid) throw new Refusal("unauthenticated", `Sign-in refused: ${valid.invalidMessage}`);
    const signed = await verifySIWxSignature(payload);
    if (!signed.isValid) throw new Refusal("unauthenticated", `Sign-in refused: ${signed.invalidMessage}`);
    if (!(await options.kv.claim(`siwx:nonce:${payload.nonce}`, SIWX_MAX_AGE_MS * 2))) {
      throw new Refusal("unauthenticated", "Sign-in refused: this nonce was already used; sign a new one.");
    }
    const session = await access.forWallet(signed.payer);
    if (!session)
      throw new Refusal("forbidden", `Wallet ${signed.payer} holds no paid session. Purchase access first.`);
    return session;
  };

  const byToken = async (header: string) => {
    const token = /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(header.trim())?.[1];
    if (!token) throw new Refusal("unauthenticated", "Authorization must be 'Bearer <session token>'.");
    const session = await access.forToken(token);
    if (!session) throw new Refusal("unauthenticated", "Session token is unknown or its session has ended.");
    return session;
  };

  const resolve = async (c: Context) => {
    const signIn = c.req.header("sign-in-with-x");
    if (signIn) return bySignIn(signIn);
    const authorization = c.req.header("authorization");
    if (authorization) return byToken(authorization);
    throw new Refusal(
      "unauthenticated",
      "Session token required. Send Authorization: Bearer <token> from your purchase, or SIGN-IN-WITH-X from the paying wallet.",
    );
  };
  return {
    session: resolve,
    heldRobot: async (c) => access.heldRobot(await resolve(c)),
    streamHeldRobot: async (c) => {
      const token = c.req.query("token");
      const fromQuery =
        token !== undefined && !c.req.header("authorization") && !c.req.header("sign-in-with-x");
      return access.heldRobot(fromQuery ? await byToken(`Bearer ${token}`) : await resolve(c));
    },
  };
}
