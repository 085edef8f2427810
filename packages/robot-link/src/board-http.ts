import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";

/** One request to a robot's board, on a connection of its own. */
export interface BoardCall {
  readonly method?: "GET" | "POST";
  /** Sent as the JSON body. */
  readonly json?: unknown;
  /** The whole round trip, connect to the last byte. */
  readonly timeoutMs: number;
  /** An answer longer than this is cut off and refused. */
  readonly maxBytes: number;
  /** Resolves the board's name; a caller that judges where it connects passes its own. */
  readonly lookup?: LookupFunction;
}

export interface BoardAnswer {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: Buffer;
}

/**
 * Asks a board once. The Tumbller firmware serves one client and closes every connection, so each call
 * dials anew and says `Connection: close`. This is node:http rather than undici: for a connection used once,
 * undici builds a client per origin and an error with its stack trace per closed socket, which cost a motor
 * command about a quarter of a millisecond more.
 */
export function callBoard(url: URL, call: BoardCall): Promise<BoardAnswer> {
  const body = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, answer?: BoardAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        outgoing.destroy();
        reject(error);
      } else resolve(answer as BoardAnswer);
    };
    const outgoing: ClientRequest = (url.protocol === "https:" ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        // A URL writes an IPv6 host in brackets; a socket takes it bare.
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: call.method ?? "GET",
        agent: false,
        lookup: call.lookup,
        headers: {
          connection: "close",
          ...(body && { "content-type": "application/json", "content-length": body.length }),
        },
      },
      (answer: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > call.maxBytes) finish(new Error(`answer larger than ${call.maxBytes} bytes`));
          else chunks.push(chunk);
        });
        answer.on("end", () =>
          finish(null, {
            status: answer.statusCode ?? 0,
            type: answer.headers["content-type"],
            body: Buffer.concat(chunks, size),
          }),
        );
        answer.on("error", finish);
        answer.on("close", () => finish(new Error("the connection closed before the answer ended")));
      },
    );
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${call.timeoutMs} ms`)),
      call.timeoutMs,
    );
    outgoing.on("error", finish);
    outgoing.end(body);
  });
}
