import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { HttpError } from "./errors.ts";

const DIGITS = /^\d+$/;

/**
 * Hono's body limit (413 past `maxSize` bytes), with the answers the headers already give decided
 * from them: a request that announces its length (RFC 9112 §6.3; Node's parser holds the body to it),
 * and a GET or HEAD that announces no body. Hono's own check builds the whole fetch Request on Node,
 * which a request's later body read would otherwise take from the socket directly: about a tenth of
 * an unpaid 402's CPU, and a motor command's.
 */
export function bodyLimit(maxSize: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new HttpError(413, `Request body too large (limit ${maxSize} bytes).`);
  };
  const streamed = honoBodyLimit({ maxSize, onError: tooLarge });
  return (c, next) => {
    if (c.req.header("transfer-encoding") === undefined) {
      const length = c.req.header("content-length");
      if (length !== undefined && DIGITS.test(length)) return Number(length) > maxSize ? tooLarge() : next();
      if (length === undefined && (c.req.method === "GET" || c.req.method === "HEAD")) return next();
    }
    return streamed(c, next);
  };
}
