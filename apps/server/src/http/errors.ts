import type { ValidationIssue } from "@robo402/protocol";
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import type { ZodError } from "zod";
import { Refusal, type RefusalKind } from "../refusal.ts";
import { unavailableDetail } from "./unavailable.ts";

/** The one place a refusal's kind becomes a status code. */
export const REFUSAL_STATUS = {
  malformed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid: 422,
  robot_failed: 502,
  unavailable: 503,
  robot_timeout: 504,
} as const satisfies Record<RefusalKind, ContentfulStatusCode>;

/**
 * A refusal only HTTP can word (a body too large, an upgrade required): the status and the sentence that
 * goes into `{"detail": …}`. Everything else throws a `Refusal`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "HttpError";
  }
}

/** FastAPI's 422 shape (`loc` starts with where the field was: body, query, header, path). */
export function validationIssues(error: ZodError, where: string): ValidationIssue[] {
  return error.issues.map((issue) => {
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    return {
      type: missing ? "missing" : issue.code,
      loc: [where, ...issue.path.map((part) => (typeof part === "number" ? part : String(part)))],
      msg: missing ? "Field required" : issue.message,
    };
  });
}

const WHERE: Record<string, string> = { json: "body", form: "body", param: "path" };

/** The hook every validated route shares: a failed field is a 422 naming it. */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError; target: string },
  c: Context,
) {
  if (result.success) return;
  return c.json({ detail: validationIssues(result.error, WHERE[result.target] ?? result.target) }, 422);
}

export function errorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof Refusal) return c.json({ detail: error.detail }, REFUSAL_STATUS[error.kind]);
    if (error instanceof HttpError) return c.json({ detail: error.detail }, error.status);
    if (error instanceof HTTPException) {
      const detail = error.status === 400 ? `Bad request: ${error.message}` : error.message;
      return c.json({ detail: detail || "Request refused" }, error.status);
    }
    const unavailable = unavailableDetail(error);
    if (unavailable) {
      logger.warn({ err: error, path: c.req.path }, "a store the request needs is unreachable");
      return c.json({ detail: unavailable }, 503, { "retry-after": "5" });
    }
    logger.error({ err: error, path: c.req.path }, "unhandled error");
    return c.json({ detail: "Internal server error" }, 500);
  };
}
