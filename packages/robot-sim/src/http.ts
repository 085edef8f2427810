import type { IncomingMessage, Server, ServerResponse } from "node:http";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer = "",
  contentType = "text/plain",
): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

export const sendJson = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, JSON.stringify(value), "application/json");

/** The request's path and query; the firmware ignores the host, so any base will do. */
export const requestUrl = (req: IncomingMessage) => new URL(req.url ?? "/", "http://robot");

export class PayloadTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new PayloadTooLargeError(`body larger than ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs a handler and turns its failure into a 500, or, once the sim is closing (its delays were
 * aborted), into a dropped connection, because no one is waiting for that answer any more.
 */
export function guard(handler: Handler, closing: AbortSignal): Handler {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (error) {
      if (closing.aborted || res.headersSent) res.destroy();
      else send(res, 500, `robot-sim: ${(error as Error).message}`);
    }
  };
}

/** Serves requests strictly one after another, like the ESP32's single-client web server. */
export function oneAtATime(handler: Handler): Handler {
  let previous: Promise<void> = Promise.resolve();
  return (req, res) => {
    const turn = previous.then(() => handler(req, res));
    previous = turn.catch(() => undefined);
    return turn;
  };
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
