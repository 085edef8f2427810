import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through HTTP server in front of one of robot-sim's boards, counting what reaches it: robot-sim
 * logs motor commands it ran, but not requests it dropped (offline), failed (5xx) or camera requests.
 */
export interface CountingProxy {
  readonly url: string;
  /** Requests forwarded so far whose path starts with `prefix`. */
  count(prefix?: string): number;
  /** The most requests that were in flight to the board at once. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export async function countingProxy(target: string): Promise<CountingProxy> {
  const paths: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    paths.push(req.url ?? "/");
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = () => {
      inFlight--;
    };
    const upstream = request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("end", done);
      },
    );
    // The board dropped the connection (offline): so does the proxy, as the board would have.
    upstream.on("error", () => {
      done();
      res.destroy();
    });
    // The platform gave up (its timeout): the board's connection goes too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: (prefix = "/") => paths.filter((path) => path.startsWith(prefix)).length,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
