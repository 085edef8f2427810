import { type Dispatcher, request } from "undici";
import { EndpointRefusedError } from "../robots/endpoint-guard.ts";

export interface ServiceRequest {
  readonly service: string;
  readonly input: unknown;
}

export interface ExecutorOptions {
  /** The whole call, connection to last byte. */
  readonly timeoutMs: number;
  /** Longest answer read; a robot sending more is cut off there. */
  readonly maxResponseBytes: number;
  /** Where connections come from: the SSRF guard (guardedDispatcher). */
  readonly dispatcher: Dispatcher;
}

export type ExecutionOutcome =
  | { status: "success"; result: unknown; responseTimeMs: number }
  | { status: "failed" | "timeout"; error: string; responseTimeMs: number };

/** The robot did something a service must not; the message says what, for the caller and the log. */
class RobotMisbehaved extends Error {}

// A robot's detail is relayed to the caller; a page of it would drown the platform's own message.
const MAX_DETAIL_CHARS = 300;

const isJson = (contentType: string | string[] | undefined) =>
  typeof contentType === "string" && contentType.split(";")[0]?.trim().toLowerCase() === "application/json";

/** Drops an unread answer and its connection, all a misbehaving robot gets. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  // Destroying the body makes undici emit the abort we asked for; with no listener it would be an
  // uncaught exception.
  body.once("error", () => undefined);
  body.destroy();
}

async function readCapped(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      discard(body);
      throw new RobotMisbehaved(`its answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The `detail` of a refusal or failure, when the robot sent one we can read. */
async function readDetail(response: Dispatcher.ResponseData, maxBytes: number): Promise<string | null> {
  if (!isJson(response.headers["content-type"])) {
    discard(response.body);
    return null;
  }
  let detail: unknown;
  try {
    detail = (JSON.parse(await readCapped(response.body, maxBytes)) as { detail?: unknown })?.detail;
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RobotMisbehaved) return null;
    throw error;
  }
  if (detail === undefined || detail === null) return null;
  const text = typeof detail === "string" ? detail : JSON.stringify(detail);
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
}

async function call(
  endpoint: string,
  job: ServiceRequest,
  options: ExecutorOptions,
  signal: AbortSignal,
): Promise<unknown> {
  const response = await request(endpoint, {
    method: "POST",
    dispatcher: options.dispatcher,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ service: job.service, input: job.input }),
    signal,
  });
  const { statusCode, headers } = response;
  if (statusCode >= 300 && statusCode < 400) {
    discard(response.body);
    const to = typeof headers.location === "string" ? ` to ${headers.location}` : "";
    throw new RobotMisbehaved(`it answered with a redirect (${statusCode}${to}), which is not followed`);
  }
  if (statusCode >= 400) {
    const detail = await readDetail(response, options.maxResponseBytes);
    const said = detail ? `: ${detail}` : "";
    throw new RobotMisbehaved(
      statusCode < 500 ? `it refused the request (${statusCode})${said}` : `it answered ${statusCode}${said}`,
    );
  }
  if (statusCode < 200 || statusCode >= 300) {
    discard(response.body);
    throw new RobotMisbehaved(`it answered ${statusCode}`);
  }
  if (!isJson(headers["content-type"])) {
    discard(response.body);
    throw new RobotMisbehaved(`its answer is ${headers["content-type"] ?? "untyped"}, not application/json`);
  }
  const declared = Number(headers["content-length"]);
  if (declared > options.maxResponseBytes) {
    discard(response.body);
    throw new RobotMisbehaved(`its answer is larger than ${options.maxResponseBytes} bytes`);
  }
  const text = await readCapped(response.body, options.maxResponseBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new RobotMisbehaved("its answer is not valid JSON");
  }
}

/** Undici's and Node's network errors carry a code (ECONNREFUSED, UND_ERR_SOCKET…); our own bugs do not. */
const isNetworkError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error && typeof (error as { code?: unknown }).code === "string";

/**
 * Calls a robot's service: POST `{service, input}` as JSON, expect JSON back. Whatever the robot does —
 * refuse, fail, redirect, stall, send too much or not JSON — comes back as an outcome, never a throw.
 */
export async function executeService(
  endpoint: string,
  job: ServiceRequest,
  options: ExecutorOptions,
): Promise<ExecutionOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const failed = (status: "failed" | "timeout", error: string): ExecutionOutcome => ({
    status,
    error,
    responseTimeMs: elapsed(),
  });
  try {
    const result = await call(endpoint, job, options, deadline);
    return { status: "success", result, responseTimeMs: elapsed() };
  } catch (error) {
    if (deadline.aborted) return failed("timeout", `no answer within ${options.timeoutMs} ms`);
    if (error instanceof RobotMisbehaved) return failed("failed", error.message);
    if (error instanceof EndpointRefusedError)
      return failed("failed", `its endpoint is refused: ${error.message}`);
    if (!isNetworkError(error)) throw error;
    if (error.code === "UND_ERR_CONNECT_TIMEOUT")
      return failed("timeout", `could not connect (${error.message})`);
    return failed("failed", `unreachable (${error.message})`);
  }
}
