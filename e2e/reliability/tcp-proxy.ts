import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A TCP relay that can be cut (every connection dropped, new ones refused) and brought back. */
export interface TcpProxy {
  /** The port clients connect to; it stays the same across cut() and restore(). */
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Relays 127.0.0.1:<port> to `target`: stands in for a Redis (or any server) that goes away. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const relay = (client: Socket) => {
    const upstream = createConnection(target);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  };
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(relay);
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve(server));
    });
  const stop = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  let server: Server | undefined = await listen(0);
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no TCP port");
  const { port } = address;
  return {
    port,
    async cut() {
      if (server) await stop(server);
      server = undefined;
    },
    async restore() {
      server ??= await listen(port);
    },
    async close() {
      if (server) await stop(server);
      server = undefined;
    },
  };
}
