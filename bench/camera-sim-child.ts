/**
 * The camera row's robot: a robot-sim whose camera board sits behind a pass-through that counts the
 * requests it receives, because robot-sim logs motor commands only. Runs as its own process and prints
 * `{"motorUrl", "cameraUrl", "countUrl"}` once listening; `cameraUrl` is the counted way in and
 * `countUrl` answers `{"requests", "ok", "busy"}` (the last two: 200 and 503 answers of the board).
 *
 * Env: NAME, the robot's hostname.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { startRobotSim } from "@robo402/robot-sim";

const name = process.env.NAME;
if (!name) throw new Error("camera-sim-child: NAME is required");
const sim = await startRobotSim({ name });
const board = new URL(sim.cameraUrl);
const counts = { requests: 0, ok: 0, busy: 0 };

const COUNT_PATH = "/_bench/count";
const server = createServer((req, res) => {
  if (req.url === COUNT_PATH) {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(counts));
    return;
  }
  counts.requests++;
  const forward = request(
    { host: board.hostname, port: board.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      if (answer.statusCode === 200) counts.ok++;
      if (answer.statusCode === 503) counts.busy++;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on("error", (error) => res.writeHead(502).end(`camera board unreachable: ${error.message}`));
  req.pipe(forward);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;
const front = `http://127.0.0.1:${port}`;

const stop = async () => {
  server.closeAllConnections();
  server.close();
  await sim.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
console.log(JSON.stringify({ motorUrl: sim.motorUrl, cameraUrl: front, countUrl: `${front}${COUNT_PATH}` }));
