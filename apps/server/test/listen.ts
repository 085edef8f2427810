import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { websocketOption } from "../src/realtime/server.ts";

export interface Listener {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** A real HTTP listener on a free loopback port, with WebSocket upgrades, as main.ts serves the platform. */
export async function listen(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
): Promise<Listener> {
  const websocket = websocketOption();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch, websocket, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of websocket.server.clients) socket.terminate();
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
