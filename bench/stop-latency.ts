import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../e2e/harness.ts";
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
  const state = async () => (await (await fetch(`${sim.motorUrl}/_sim/state`)).json()) as SimState;
  /** When the first stop at or after `from` reached the robot (epoch ms), waiting for it. */
  const stopAt = async (from: number) => {
    for (;;) {
      const stop = (await state()).commands.find((c) => c.command === "stop" && c.at >= from);
      if (stop) return stop.at;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  const deadman: number[] = [];
  const release: number[] = [];
  let releaseAnsweredFirst = 0;
  await call("/api/v1/access/purchase", "POST", { robot_host: name });
  for (let i = 0; i < samples; i++) {
    const sent = Date.now();
    await call("/api/v1/robot/motor/forward");
    deadman.push((await stopAt(sent)) - (sent + DEADMAN_MS));
  }
  for (let i = 0; i < samples; i++) {
    await call("/api/v1/access/purchase", "POST", { robot_host: name });
    await call("/api/v1/robot/motor/forward");
    const sent = Date.now();
    await call("/api/v1/access/release", "POST");
    const answered = Date.now();
    const stopped = await stopAt(sent);
    if (stopped > answered) releaseAnsweredFirst++;
    release.push(stopped - sent);
  }
  await stopChild(server.child);
  const figures = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  };
  return { samples, deadman: figures(deadman), release: figures(release), releaseAnsweredFirst };
}

/** The stop row, as the bench prints it (the dropped link's column is the robot link's to fill). */
export function stopTable(stop: StopLatency, targetP99Ms: number): string[] {
  const judged = (p99: number) => (p99 <= targetP99Ms ? "within" : "over");
  const cell = ({ p50, p99 }: { p50: number; p99: number }) =>
    `${p50.toFixed(0)} / ${p99.toFixed(0)} (${judged(p99)})`;
  return [
    `stop latency — ${stop.samples} samples each, one robot-sim, DEADMAN_MS=${DEADMAN_MS}; ms until the stop reaches the robot (its motors at zero), p50 / p99, target p99 ≤ ${targetP99Ms} ms`,
    "",
    "| from | dead-man deadline | release request | dropped link |",
    "| --- | --- | --- | --- |",
    `| stop latency | ${cell(stop.deadman)} | ${cell(stop.release)}; answered before the stop: ${stop.releaseAnsweredFirst} | — |`,
  ];
}
