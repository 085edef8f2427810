import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../e2e/harness.ts";
import { registerLinkRobot, spawnBridge } from "./linked-robot.ts";
import { percentile } from "./measure.ts";
import { type Cleanup, ORPHAN_GUARD, type SimProcess, stopChild } from "./processes.ts";

/** The platform's dead-man time in this row: short, so that its samples do not take long. */
const DEADMAN_MS = 500;
const WALLET = "0xbe4c000000000000000000000000000000000002";

export interface StopLatency {
  readonly samples: number;
  /** Dead-man deadline (the command's send + DEADMAN_MS) → the stop at the robot, p50 and p99 ms. */
  readonly deadman: { p50: number; p99: number };
  /** Release request sent → the stop at the robot, p50 and p99 ms. */
  readonly release: { p50: number; p99: number };
  /** Releases answered before their stop reached the robot (the stop then arrived after the answer). */
  readonly releaseAnsweredFirst: number;
  /** A moving linked robot's link cut (its connection closed) → robo402-link's stop at the robot. */
  readonly droppedLink?: { p50: number; p99: number };
}

interface SimState {
  moving: string | null;
  commands: { at: number; command: string }[];
}

/**
 * How soon a robot stops, as the robot-sim (another process, same clock) logs its stop's arrival: after
 * the dead-man's deadline, and after a release. One robot, one platform in free mode, a sample at a time.
 */
export async function measureStopLatency(
  cleanup: Cleanup,
  sim: SimProcess,
  name: string,
  samples: number,
): Promise<StopLatency> {
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-stop-"));
  cleanup.add("the stop row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      ROBOTS: JSON.stringify([{ host: name, motor_url: sim.motorUrl, camera_url: sim.cameraUrl }]),
      DATA_DIR: dataDir,
      PAYMENT_ENABLED: "false",
      DEADMAN_MS: String(DEADMAN_MS),
    },
    ORPHAN_GUARD,
  );
  cleanup.add("the stop row's server", () => stopChild(server.child));
  const headers = { "content-type": "application/json", "x-wallet-address": WALLET };
  const call = async (path: string, method = "GET", body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status} ${await response.text()}`);
  };

  const deadman: number[] = [];
  const release: number[] = [];
  let releaseAnsweredFirst = 0;
  await call("/api/v1/access/purchase", "POST", { robot_host: name });
  for (let i = 0; i < samples; i++) {
    const sent = Date.now();
    await call("/api/v1/robot/motor/forward");
    deadman.push((await stopAt(sim.motorUrl, sent)) - (sent + DEADMAN_MS));
  }
  for (let i = 0; i < samples; i++) {
    await call("/api/v1/access/purchase", "POST", { robot_host: name });
    await call("/api/v1/robot/motor/forward");
    const sent = Date.now();
    await call("/api/v1/access/release", "POST");
    const answered = Date.now();
    const stopped = await stopAt(sim.motorUrl, sent);
    if (stopped > answered) releaseAnsweredFirst++;
    release.push(stopped - sent);
  }
  await stopChild(server.child);
  return { samples, deadman: figures(deadman), release: figures(release), releaseAnsweredFirst };
}

const figures = (values: number[]) => {
  const sorted = values.sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
};

/** What robot-sim (another process, same clock) says reached its motor board. */
async function commandsAt(motorUrl: string): Promise<SimState["commands"]> {
  return ((await (await fetch(`${motorUrl}/_sim/state`)).json()) as SimState).commands;
}

/** When the first stop at or after `from` reached the robot (epoch ms), waiting for it. */
async function stopAt(motorUrl: string, from: number): Promise<number> {
  for (;;) {
    const stop = (await commandsAt(motorUrl)).find((c) => c.command === "stop" && c.at >= from);
    if (stop) return stop.at;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * A TCP relay in front of the platform that can cut every connection through it at once: a link dropped
 * as a platform that went away or a network that reset it drops it (the bridge sees its connection close).
 */
async function cuttableRelay(target: URL): Promise<{ url: string; cut(): void; close(): void }> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).on("error", () => {});
    upstream.pipe(client).on("error", () => {});
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", drop).on("error", drop);
    upstream.on("close", drop).on("error", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const close = () => {
    cut();
    server.close();
  };
  return { url: `http://127.0.0.1:${port}`, cut, close };
}

/**
 * How soon a linked robot stops when its link drops while it moves: the real robo402-link, in its own
 * process, reaches the platform through a relay the bench cuts; robot-sim logs the stop's arrival. After
 * each cut the bridge dials back, and the robot is bought and moved again.
 */
export async function measureDroppedLinkStops(
  cleanup: Cleanup,
  sim: SimProcess,
  name: string,
  samples: number,
): Promise<{ p50: number; p99: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-drop-"));
  cleanup.add("the dropped link row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      DATA_DIR: dataDir,
      PAYMENT_ENABLED: "false",
      DEADMAN_MS: String(DEADMAN_MS),
      // The bridge dials back after every cut, from one address.
      LINK_RATE_LIMIT: "1000000",
    },
    ORPHAN_GUARD,
  );
  cleanup.add("the dropped link row's server", () => stopChild(server.child));
  const token = await registerLinkRobot(server.url, name, "bench-drop@robo402.test");
  const relay = await cuttableRelay(new URL(server.url));
  cleanup.add("the dropped link row's relay", async () => relay.close());
  const bridge = spawnBridge(relay.url, token, sim);
  cleanup.add("the dropped link row's bridge", () => stopChild(bridge));

  const wallet = { "x-wallet-address": WALLET };
  const dropped: number[] = [];
  for (let i = 0; i < samples; i++) {
    // Offline (503) until the bridge has dialed back in.
    for (;;) {
      const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
        method: "POST",
        headers: { "content-type": "application/json", ...wallet },
        body: JSON.stringify({ robot_host: name }),
      });
      if (bought.ok) break;
      if (bought.status !== 503) throw new Error(`buying the linked robot answered ${bought.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const moved = await fetch(`${server.url}/api/v1/robot/motor/forward`, { headers: wallet });
    if (!moved.ok) throw new Error(`driving the linked robot answered ${moved.status}`);
    const cutAt = Date.now();
    relay.cut();
    dropped.push((await stopAt(sim.motorUrl, cutAt)) - cutAt);
  }
  await stopChild(bridge);
  relay.close();
  await stopChild(server.child);
  return figures(dropped);
}

/** The stop row, as the bench prints it. */
export function stopTable(stop: StopLatency, targetP99Ms: number): string[] {
  const judged = (p99: number) => (p99 <= targetP99Ms ? "within" : "over");
  const cell = ({ p50, p99 }: { p50: number; p99: number }) =>
    `${p50.toFixed(0)} / ${p99.toFixed(0)} (${judged(p99)})`;
  return [
    `stop latency — ${stop.samples} samples each, one robot-sim, DEADMAN_MS=${DEADMAN_MS}; ms until the stop reaches the robot (its motors at zero), p50 / p99, target p99 ≤ ${targetP99Ms} ms`,
    "",
    "| from | dead-man deadline | release request | dropped link |",
    "| --- | --- | --- | --- |",
    `| stop latency | ${cell(stop.deadman)} | ${cell(stop.release)}; answered before the stop: ${stop.releaseAnsweredFirst} | ${stop.droppedLink ? `${cell(stop.droppedLink)}, by robo402-link` : "—"} |`,
    "",
    "A dropped link here is one whose connection closed (the platform went away, or a network reset it); a link that falls silent instead stops its robot at robo402-link's own dead-man deadline.",
  ];
}
