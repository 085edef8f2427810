import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";

/** What every log line written while serving a request carries. */
interface RequestContext {
  readonly requestId: string;
}

const context = new AsyncLocalStorage<RequestContext>();

// A client's own id is kept (tracing across services) when it is a sane token; anything else is replaced.
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** For pino's `mixin`: the current request's id on every line, whichever module logs it. */
export function logContext(): { req_id?: string } {
  const store = context.getStore();
  return store ? { req_id: store.requestId } : {};
}

/**
 * Gives each request an id (`X-Request-Id`, echoed back), runs the rest of the request inside it so
 * every log line names it, and writes one access line per request.
 */
export function requestContext(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const offered = c.req.header("x-request-id");
    const requestId = offered && CLIENT_ID.test(offered) ? offered : randomUUID();
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await context.run({ requestId }, async () => {
      await next();
      logger.info(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      );
    });
  };
}

/**
 * What pino must never write: credentials in headers and bodies, wherever a log call puts them. The
 * configuration's secrets are never logged at all (the start line names no secret).
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["payment-signature"]',
  'req.headers["x-payment"]',
  'req.headers["sign-in-with-x"]',
  "headers.authorization",
  'headers["payment-signature"]',
  'headers["x-payment"]',
  "password",
  "*.password",
  "token",
  "*.token",
  "privateKey",
  "*.privateKey",
  "payload",
  "*.payload",
];
