import { WebSocketServer } from "ws";

// What a client may send in one WebSocket message, as for an HTTP body; `ws` closes a socket that
// sends more with 1009 before buffering it.
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * The `websocket` option of `@hono/node-server`'s `serve`: without it `upgradeWebSocket` routes cannot
 * upgrade. Every listener of the platform (main.ts, tests) passes a fresh one.
 */
export function websocketOption(): { server: WebSocketServer } {
  return { server: new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES }) };
}
