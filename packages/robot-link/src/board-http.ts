import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";

/** One request to a robot's board. */
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
  /**
   * Connections kept for a robot whose API keeps them (a rover taking ten commands a second); without
   * them, each call has a connection of its own and says `Connection: close`, as the Tumbller firmware wants.
   */
  readonly kept?: KeptConnections;
}

/** Kept connections to one robot, over http and https. */
export interface KeptConnections {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

/**
 * Connections to keep for one robot, each dialled through `lookup`. An idle one is closed after a few
 * seconds, so a robot gone (or a driver replaced) leaves none behind for long.
 */
export function keptConnections(lookup?: LookupFunction): KeptConnections {
  const options = { keepAlive: true, maxSockets: 4, timeout: 5000, lookup };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

export interface BoardAnswer {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: Buffer;
}

/**
 * Asks a board once. The Tumbller firmware serves one client and closes every connection, so each call
 * dials anew and says `Connection: close` (unless given connections to keep). This is node:http rather
 * than undici: for a connection used once, undici builds a client per origin and an error with its stack
 * trace per closed socket, which cost a motor command about a quarter of a millisecond more.
 */
export function callBoard(url: URL, call: BoardCall): Promise<BoardAnswer> {
  const body = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
  const https = url.protocol === "https:";
  const agent = call.kept && (https ? call.kept.https : call.kept.http);
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
    const outgoing: ClientRequest = (https ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        // A URL writes an IPv6 host in brackets; a socket takes it bare.
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: call.method ?? "GET",
        agent: agent ?? false,
        // A kept connection was dialled through the lookup its agent was made with.
        lookup: agent ? undefined : call.lookup,
        headers: {
          ...(!agent && { connection: "close" }),
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
