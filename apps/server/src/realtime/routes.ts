import { upgradeWebSocket } from "@hono/node-server";
import { Hono } from "hono";
import type { WSContext, WSEvents } from "hono/ws";
import type { Logger } from "pino";
import { z } from "zod";
import type { CallQuoteStatus } from "../db/schema.ts";
import { HttpError } from "../http/errors.ts";
import type { SessionEvents } from "./events.ts";

/** A payment session's status as stored; undefined if there is no such session. */
export type CurrentStatus = (sessionId: string) => Promise<CallQuoteStatus | undefined>;

// readyState 1 is OPEN. Close codes: 4000–4999 are the application's; 4404 mirrors HTTP's 404.
const OPEN = 1;
const NOT_FOUND = 4404;
const UNSUPPORTED_DATA = 1003;
const MESSAGE_TOO_BIG = 1009;
// The socket server lets a robot link's camera frames (up to 1 MiB) through; a watcher has nothing to say
// that needs more than an HTTP body's worth.
const MAX_WATCHER_MESSAGE = 64 * 1024;
const INTERNAL_ERROR = 1011;
const FINAL: ReadonlySet<CallQuoteStatus> = new Set(["completed", "expired"]);

const SessionId = z.uuid();

/**
 * `GET /ws/session/{session_id}`: a WebSocket that tells its client `{"status": …}` at once if the
 * session is past pending, then at every change, and closes itself once the session is completed or
 * expired. The client has nothing to say: its text messages are ignored, binary ones close the socket.
 */
export function sessionSocketRoutes(
  events: SessionEvents,
  currentStatus: CurrentStatus,
  logger: Logger,
): Hono {
  return new Hono().get(
    "/ws/session/:session_id",
    upgradeWebSocket((c) => watchSession(c.req.param("session_id") ?? "", events, currentStatus, logger)),
    () => {
      throw new HttpError(426, "This is a WebSocket endpoint: connect with a WebSocket client.");
    },
  );
}

function watchSession(
  sessionId: string,
  events: SessionEvents,
  currentStatus: CurrentStatus,
  logger: Logger,
): WSEvents {
  let closed = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  const stopListening = () =>
    unsubscribe?.().catch((err: unknown) => logger.warn({ err, sessionId }, "session unsubscribe failed"));

  const open = async (ws: WSContext) => {
    if (!SessionId.safeParse(sessionId).success)
      return ws.close(NOT_FOUND, "Malformed session id: expected a UUID");
    let last: CallQuoteStatus | undefined;
    let early: CallQuoteStatus[] | undefined = [];
    const tell = (status: CallQuoteStatus) => {
      if (status === last || ws.readyState !== OPEN) return;
      last = status;
      ws.send(JSON.stringify({ status }));
      if (FINAL.has(status)) ws.close(1000, `Session ${status}`);
    };
    // Listen before reading the status, so that a change between the two is not lost; what arrives
    // before the read is told after it.
    unsubscribe = await events.subscribe(sessionId, (status) => (early ? early.push(status) : tell(status)));
    if (closed) return stopListening();
    const status = await currentStatus(sessionId);
    if (status === undefined) return ws.close(NOT_FOUND, "No such payment session");
    if (status === "pending") last = status;
    else tell(status);
    for (const status of early) tell(status);
    early = undefined;
  };

  return {
    onOpen: (_event, ws) => {
      open(ws).catch((err: unknown) => {
        logger.error({ err, sessionId }, "session socket failed");
        ws.close(INTERNAL_ERROR, "Internal error");
      });
    },
    onMessage: (event, ws) => {
      if (typeof event.data !== "string") ws.close(UNSUPPORTED_DATA, "This socket takes no binary messages");
      else if (event.data.length > MAX_WATCHER_MESSAGE) ws.close(MESSAGE_TOO_BIG, "Message too big");
    },
    onClose: () => {
      closed = true;
      stopListening();
    },
  };
}
