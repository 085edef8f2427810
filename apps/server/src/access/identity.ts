import type { Context } from "hono";
import { HttpError } from "../http/errors.ts";
import type { AccessService, Controller } from "./service.ts";
import type { AccessSession } from "./store.ts";

/** Who is calling: the session a request speaks for. One implementation per payment mode. */
export interface ControlAuth {
  /** The caller's live session, if any; refuses (401) a request that carries no credentials at all. */
  session(c: Context): Promise<AccessSession | undefined>;
  /** The caller's live session and robot; 401 without credentials, 403 without a session. */
  controller(c: Context): Promise<Controller>;
}

/**
 * The first plan's free mode: the wallet named in `X-Wallet-Address` is taken at its word. A missing
 * header is simply "no session" for status, as the plan has it.
 */
export function walletHeaderAuth(access: AccessService): ControlAuth {
  const wallet = (c: Context) => c.req.header("x-wallet-address")?.trim() || undefined;
  return {
    session: async (c) => {
      const caller = wallet(c);
      return caller ? access.forWallet(caller) : undefined;
    },
    controller: async (c) => {
      const caller = wallet(c);
      if (!caller) throw new HttpError(401, "Wallet address required. Include X-Wallet-Address header.");
      const session = await access.forWallet(caller);
      if (!session) throw new HttpError(403, "No active session. Purchase access first.");
      return access.controller(session);
    },
  };
}

/** Paid mode: the bearer token handed to the payer with its purchase, never a header anyone can set. */
export function sessionTokenAuth(access: AccessService): ControlAuth {
  const resolve = async (c: Context) => {
    const header = c.req.header("authorization");
    if (!header) {
      throw new HttpError(
        401,
        "Session token required. Send Authorization: Bearer <token> from your purchase.",
      );
    }
    const token = /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(header.trim())?.[1];
    if (!token) throw new HttpError(401, "Authorization must be 'Bearer <session token>'.");
    const session = await access.forToken(token);
    if (!session) throw new HttpError(401, "Session token is unknown or its session has ended.");
    return session;
  };
  return {
    session: resolve,
    controller: async (c) => access.controller(await resolve(c)),
  };
}
