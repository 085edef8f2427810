import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVelocityRobot, type VelocityRobot } from "@robo402/robot-sim";
import { Agent, request } from "undici";
import { startServer } from "../e2e/harness.ts";
import { percentile } from "./measure.ts";
import { type Cleanup, ORPHAN_GUARD, stopChild } from "./processes.ts";

export interface VelocityStreamOptions {
  readonly robots: number;
  readonly hz: number;
  readonly seconds: number;
}

interface Stream {
  /** Commands answered 200 per second, over all robots. */
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

export interface VelocityStreamFigures extends VelocityStreamOptions {
  readonly direct: Stream;
  readonly platform: Stream;
}

const SPEEDS = JSON.stringify({ linear: 0.5, angular: 0.2 });

/**
 * `hz` velocity commands a second to each of `robots` rovers at once (a buyer's drag pad each), for
 * `seconds`: straight to the rovers, then through the platform (free mode), which clamps each to its
 * robot's limits and re-arms its dead-man. A command whose predecessor is still out is sent anyway, as a
 * browser's timer does.
 */
export async function measureVelocityStream(
  cleanup: Cleanup,
  options: VelocityStreamOptions,
): Promise<VelocityStreamFigures> {
  const rovers = await Promise.all(
    Array.from({ length: options.robots }, (_, i) => startVelocityRobot({ name: `bench-rover-${i}` })),
  );
  cleanup.add("the velocity row's rovers", async () => {
    await Promise.all(rovers.map((rover) => rover.close()));
  });
  // A connection per buyer, as each buyer's browser has its own.
  const agent = new Agent({ connections: options.robots });
  cleanup.add("the velocity row's connections", () => agent.close());

  const direct = await stream(options, (i) => ({ url: `${rovers[i]?.url}/velocity`, headers: {} }), agent);

  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-velocity-"));
  cleanup.add("the velocity row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      ROBOTS: JSON.stringify(rovers.map(entry)),
      DATA_DIR: dataDir,
      PAYMENT_ENABLED: "false",
    },
    ORPHAN_GUARD,
  );
  cleanup.add("the velocity row's server", () => stopChild(server.child));
  const wallet = (i: number) => `0xbe4c${i.toString(16).padStart(36, "0")}`;
  await Promise.all(
    rovers.map(async (rover, i) => {
      const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-wallet-address": wallet(i) },
        body: JSON.stringify({ robot_host: rover.name }),
      });
      if (!bought.ok) throw new Error(`purchase of ${rover.name}: ${bought.status} ${await bought.text()}`);
    }),
  );
  const platform = await stream(
    options,
    (i) => ({ url: `${server.url}/api/v1/robot/velocity`, headers: { "x-wallet-address": wallet(i) } }),
    agent,
  );
  await stopChild(server.child);
  return { ...options, direct, platform };
}

const entry = (rover: VelocityRobot) => ({
  host: rover.name,
  driver: "velocity",
  motor_url: rover.url,
  camera_url: rover.cameraUrl,
  settings: { max_linear: 0.5, max_angular: 1, watchdog_ms: 500 },
});

async function stream(
  { robots, hz, seconds }: VelocityStreamOptions,
  target: (robot: number) => { url: string; headers: Record<string, string> },
  dispatcher: Agent,
): Promise<Stream> {
  const latencies: number[] = [];
  let failed = 0;
  const sends: Promise<void>[] = [];
  const send = async (robot: number) => {
    const { url, headers } = target(robot);
    const started = performance.now();
    try {
      const answer = await request(url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: SPEEDS,
        dispatcher,
      });
      await answer.body.dump();
      if (answer.statusCode === 200) latencies.push(performance.now() - started);
      else failed++;
    } catch {
      failed++;
    }
  };
  const periodMs = 1000 / hz;
  const began = performance.now();
  // Each robot's timer starts at its own phase, as buyers' do.
  const timers = Array.from({ length: robots }, (_, robot) =>
    setTimeout(
      () => {
        sends.push(send(robot));
        timers[robot] = setInterval(() => sends.push(send(robot)), periodMs);
      },
      (periodMs * robot) / robots,
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (const timer of timers) clearInterval(timer);
  await Promise.all(sends);
  const elapsed = (performance.now() - began) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failed,
  };
}

/** The velocity row, as the bench prints it. */
export function velocityTable(figures: VelocityStreamFigures): string[] {
  const { direct, platform, robots, hz, seconds } = figures;
  const wanted = robots * hz;
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : "—");
  return [
    `velocity stream — ${robots} robot-sim rovers × ${hz} Hz for ${seconds} s each way (${wanted} commands/s wanted), free mode; latency ms p50 / p99`,
    "",
    "| | commands/s answered 200 | of wanted | latency p50 / p99 | failed |",
    "| --- | --- | --- | --- | --- |",
    `| straight to the rovers | ${direct.rate.toFixed(0)} | ${ratio(direct.rate, wanted)} | ${direct.p50.toFixed(2)} / ${direct.p99.toFixed(2)} | ${direct.failed} |`,
    `| through the platform | ${platform.rate.toFixed(0)} | ${ratio(platform.rate, wanted)} | ${platform.p50.toFixed(2)} / ${platform.p99.toFixed(2)} | ${platform.failed} |`,
    `| platform / direct | ${ratio(platform.rate, direct.rate)} | | ${ratio(platform.p50, direct.p50)} / ${ratio(platform.p99, direct.p99)} (adds ${(platform.p50 - direct.p50).toFixed(2)} ms at p50) | |`,
  ];
}
