import type { Context, MiddlewareHandler } from "hono";
import type { Role } from "../db/schema.ts";
import { isRefusal, Refusal } from "../refusal.ts";
import type { AuthService, AuthUser } from "./service.ts";
import { TokenError } from "./tokens.ts";

/** What `authenticate` leaves on the context: the caller's account, if a valid token came. */
export type AuthEnv = { Variables: { user?: AuthUser } };

// RFC 6750: a 401 names the scheme, and says "invalid_token" when a token came but was refused.
function unauthorized(c: Context, detail: string, invalidToken: boolean): Refusal {
  c.header("WWW-Authenticate", invalidToken ? 'Bearer error="invalid_token"' : "Bearer");
  return new Refusal("unauthenticated", detail);
}

/**
 * Reads `Authorization: Bearer <jwt>` when present and sets `c.var.user`; a bad token is a 401 saying
 * why, no token leaves the caller anonymous (some routes serve agents without accounts). Running it
 * twice on a request is harmless.
 */
export function authenticate(auth: AuthService): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header !== undefined && !c.var.user) {
      const token = /^Bearer +(\S+)\s*$/i.exec(header.trim())?.[1];
      if (!token)
        throw unauthorized(
          c,
          "Token refused: malformed Authorization header; send 'Bearer <access token>'.",
          true,
        );
      try {
        c.set("user", await auth.authenticate(token));
      } catch (error) {
        if (error instanceof TokenError) throw unauthorized(c, error.message, true);
        if (isRefusal(error, "unauthenticated")) throw unauthorized(c, error.detail, true);
        throw error;
      }
    }
    await next();
  };
}

/** The signed-in caller; a 401 without one. For handlers behind `authenticate`. */
export function signedIn(c: Context<AuthEnv>): AuthUser {
  const user = c.var.user;
  if (!user)
    throw unauthorized(
      c,
      "Not authenticated: missing token; send Authorization: Bearer <access token>.",
      false,
    );
  return user;
}

export function requireUser(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    signedIn(c);
    await next();
  };
}

const either = (roles: readonly string[]) =>
  roles.length <= 1 ? (roles[0] ?? "") : `${roles.slice(0, -1).join(", ")} or ${roles.at(-1)}`;

/** 401 without a signed-in caller, 403 when the caller's role (as the database has it now) is not one of `roles`. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const user = signedIn(c);
    if (!roles.includes(user.role)) {
      throw new Refusal("forbidden", `Insufficient permissions: requires ${either(roles)}.`);
    }
    await next();
  };
}
