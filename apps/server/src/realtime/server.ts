import { WebSocketServer } from "ws";

// What a client may send in one WebSocket message; `ws` closes a socket that sends more with 1009 before
// buffering it. A robot link's camera frame is the largest message (robot-link caps it at 1 MiB).
const MAX_MESSAGE_BYTES = 1024 * 1024 + 4;

/**
 * The `websocket` option of `@hono/node-server`'s `serve`: without it `upgradeWebSocket` routes cannot
 * upgrade. Every listener of the platform (main.ts, tests) passes a fresh one.
 */
export function websocketOption(): { server: WebSocketServer } {
  return { server: new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES }) };
}
