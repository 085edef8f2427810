import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import type { Kv } from "../kv/index.ts";

export interface RateLimitOptions {
  /** Shared by every server process (Redis), so the limit holds across them. */
  readonly kv: Kv;
  /** Requests allowed per window and caller. */
  readonly limit: number;
  readonly windowMs: number;
  /** What is limited, as the caller should read it in the refusal: "/api/execute". */
  readonly scope: string;
  /**
   * Who is calling: an account id, else the client's address (or what is being tried: an email). Undefined
   * when this limit does not apply to the request, e.g. a per-account limit on an anonymous call.
   */
  readonly key: (c: Context) => string | undefined | Promise<string | undefined>;
}

/**
 * At most `limit` requests per `windowMs` and caller (a fixed window that the caller's first request
 * opens). Every answer carries the IETF draft's `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (seconds); a refusal is a 429 with `Retry-After` and a sentence saying when to retry.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const per = describeWindow(options.windowMs);
  return async (c, next) => {
    const key = await options.key(c);
    if (key === undefined) return next();
    const { count, resetMs } = await options.kv.hit(`ratelimit:${options.scope}:${key}`, options.windowMs);
    const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    const headers = {
      "RateLimit-Limit": String(options.limit),
      "RateLimit-Remaining": String(Math.max(0, options.limit - count)),
      "RateLimit-Reset": String(resetSeconds),
    };
    if (count > options.limit) {
      return c.json(
        {
          detail: `Too many requests: at most ${options.limit} ${per} on ${options.scope}; retry in ${resetSeconds} s.`,
        },
        429,
        { ...headers, "Retry-After": String(resetSeconds) },
      );
    }
    await next();
    // On the answer's own Headers: `c.header` would rebuild the whole answer to set each one.
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

const UNITS: ReadonlyArray<[ms: number, name: string]> = [
  [86_400_000, "day"],
  [3_600_000, "hour"],
  [60_000, "minute"],
  [1000, "second"],
];

/** "per minute", "per 5 minutes", "per 1500 ms". */
function describeWindow(windowMs: number): string {
  for (const [ms, name] of UNITS) {
    if (windowMs % ms !== 0) continue;
    const n = windowMs / ms;
    return n === 1 ? `per ${name}` : `per ${n} ${name}s`;
  }
  return `per ${windowMs} ms`;
}

/**
 * The caller's address. `X-Forwarded-For` is anyone's to write, so it counts only behind a proxy the
 * operator vouches for (`trustProxy`), and then only its last entry: the address that proxy saw.
 * A request made in-process (`app.request`, as tests do) has no socket and answers "local".
 */
export function clientIp(c: Context, options: { trustProxy: boolean }): string {
  if (options.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  if (!c.env?.incoming) return "local";
  return getConnInfo(c).remote.address ?? "local";
}
