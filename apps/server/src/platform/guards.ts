import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { triedEmail } from "../auth/login-limit.ts";
import { authenticate, requireRole } from "../auth/middleware.ts";
import type { AuthService } from "../auth/service.ts";
import type { Config } from "../config.ts";
import { clientIp, type RateLimitOptions, rateLimit } from "../http/rate-limit.ts";
import type { Kv } from "../kv/index.ts";

export type GuardSettings = Pick<
  Config,
  | "TRUST_PROXY"
  | "LOGIN_RATE_LIMIT"
  | "REGISTER_RATE_LIMIT"
  | "PURCHASE_RATE_LIMIT"
  | "VERIFY_RATE_LIMIT"
  | "LINK_RATE_LIMIT"
  | "EXECUTE_RATE_LIMIT"
>;

/**
 * Registers who may call what, before the routes it guards (Hono runs handlers in the order they were
 * added), and gives the limits that routes take as arguments.
 */
export function guardRoutes(app: OpenAPIHono, config: GuardSettings, kv: Kv, accounts: AuthService) {
  // What costs an argon2 hash or chain calls is limited per client address, and per account (or email
  // tried) where there is one, counted in the Kv so every instance shares the count.
  const perMinute = (scope: string, limit: number, key: RateLimitOptions["key"]) =>
    rateLimit({ kv, limit, windowMs: 60_000, scope, key });
  const clientAddress = (c: Context) => clientIp(c, { trustProxy: config.TRUST_PROXY });
  // Set by `authenticate` when the request carries an account's token.
  const account = (c: Context) => (c.var as { user?: { id: string } }).user?.id;
  app.use(
    "/api/auth/login",
    perMinute("/api/auth/login from this address", config.LOGIN_RATE_LIMIT, clientAddress),
    perMinute("/api/auth/login for this email", config.LOGIN_RATE_LIMIT, triedEmail),
  );
  app.use(
    "/api/auth/register",
    perMinute("/api/auth/register from this address", config.REGISTER_RATE_LIMIT, clientAddress),
  );
  app.use(
    "/api/v1/access/purchase",
    perMinute("/api/v1/access/purchase from this address", config.PURCHASE_RATE_LIMIT, clientAddress),
  );
  app.use(
    "/api/payments/verify",
    perMinute("/api/payments/verify from this address", config.VERIFY_RATE_LIMIT, clientAddress),
    authenticate(accounts),
    perMinute("/api/payments/verify for this account", config.VERIFY_RATE_LIMIT, account),
  );
  // The second plan's API. Its bearer tokens are account JWTs; /api/v1's are session tokens.
  for (const path of ["/api/robots", "/api/robots/*", "/api/execute/*", "/api/payments", "/api/payments/*"])
    app.use(path, authenticate(accounts));
  app.use("/api/executions", authenticate(accounts));
  app.use("/api/admin/*", authenticate(accounts), requireRole("admin"));

  return {
    link: perMinute("/api/v1/link from this address", config.LINK_RATE_LIMIT, clientAddress),
    execute: perMinute("/api/execute", config.EXECUTE_RATE_LIMIT, (c) => account(c) ?? clientAddress(c)),
    clientAddress,
  };
}
