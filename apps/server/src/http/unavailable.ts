// PostgreSQL's SQLSTATEs for "cannot talk to the database now": class 08 (connection exception),
// admin/crash shutdown and "starting up" (57P01–57P03), too many connections (53300).
const PG_DOWN = /^(08|57P0[1-3]$|53300$)/;
const PG_DOWN_MESSAGE = /not currently accepting connections|Connection terminated/;
const SOCKET_DOWN = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);
// ioredis has no error codes for these: a command that gave up waiting for a reconnect, or was refused
// because there is no connection to queue it on.
const REDIS_DOWN = /max retries per request|enableOfflineQueue|Connection is closed/i;

/**
 * When `error` (or anything it wraps) says a store the server relies on is unreachable, the sentence to
 * answer with in a 503: the request may well succeed in a few seconds, and it is not the caller's fault.
 */
export function unavailableDetail(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    const text = typeof message === "string" ? message : "";
    if ((typeof code === "string" && PG_DOWN.test(code)) || PG_DOWN_MESSAGE.test(text))
      return "The database is unavailable right now; try again in a few seconds.";
    if (name === "MaxRetriesPerRequestError" || REDIS_DOWN.test(text))
      return "The session store (Redis) is unavailable right now; try again in a few seconds.";
    if (typeof code === "string" && SOCKET_DOWN.has(code))
      return "A service this server depends on is unreachable right now; try again in a few seconds.";
  }
  return undefined;
}
