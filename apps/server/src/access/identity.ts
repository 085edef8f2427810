import type { Context } from "hono";
import { HttpError } from "../http/errors.ts";
import type { AccessService, Controller } from "./service.ts";

/** Who is driving: resolves a control request to its session and robot, or refuses it (401/403). */
export type IdentifyController = (c: Context) => Promise<Controller>;

/**
 * The first plan's free mode: the wallet named in `X-Wallet-Address` is taken at its word. Paid
 * mode replaces this with proof (a session token or a signature), never with a header.
 */
export function walletHeaderIdentity(access: AccessService): IdentifyController {
  return async (c) => {
    const wallet = c.req.header("x-wallet-address")?.trim();
    if (!wallet) throw new HttpError(401, "Wallet address required. Include X-Wallet-Address header.");
    return access.controller(wallet);
  };
}
