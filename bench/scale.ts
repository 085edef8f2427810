/**
 * How the motor path's latency grows with the platform's size: registered robots (1 → 1,000) and active
 * sessions (1 → 500), free mode (`X-Wallet-Address`), through the platform to robot-sim. Many registry
 * entries point at a few robot-sims (a motor board serves one client at a time), spread round-robin.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { startServer } from "../e2e/harness.ts";
import { percentile } from "./measure.ts";
import { type Cleanup, ORPHAN_GUARD, type SimProcess, stopChild } from "./processes.ts";

export interface ScalePoint {
  readonly robots: number;
  readonly sessions: number;
  readonly p50: number;
  readonly p99: number;
}

export interface ScaleOptions {
  /** Registered robots at each step, one session each; the last count also carries the session steps. */
  readonly robots: readonly number[];
  /** Active sessions at each further step, on the largest registry (none may exceed it). */
  readonly sessions: readonly number[];
  /** Timed motor commands per step, one at a time. */
  readonly samples: number;
}

// Purchases in flight while sessions are opened (untimed).
const PURCHASE_CONCURRENCY = 4;
const WARMUP = 200;

const robotName = (i: number) => `bench-scale-${i}`;
const wallet = (i: number) => `0xbe4c5ca1e${i.toString(16).padStart(31, "0")}`;

/** p50/p99 of a motor command at each step; the first step is the baseline the others are read against. */
export async function measureScale(
  cleanup: Cleanup,
  sims: readonly SimProcess[],
  options: ScaleOptions,
): Promise<ScalePoint[]> {
  const largest = Math.max(...options.robots);
  const tooMany = options.sessions.find((sessions) => sessions > largest);
  if (tooMany) throw new Error(`scale: ${tooMany} sessions need as many robots; the most is ${largest}`);
  const points: ScalePoint[] = [];
  for (const robots of options.robots) {
    const server = await startScaleServer(cleanup, sims, robots);
    let sessions = await openSessions(server.url, 0, 1);
    points.push({ robots, sessions, ...(await driveAll(server.url, sessions, options.samples)) });
    if (robots === largest) {
      for (const target of options.sessions) {
        sessions = await openSessions(server.url, sessions, target);
        points.push({ robots, sessions, ...(await driveAll(server.url, sessions, options.samples)) });
      }
    }
    // The next step gets the CPU to itself.
    await stopChild(server.child);
  }
  return points;
}

async function startScaleServer(cleanup: Cleanup, sims: readonly SimProcess[], robots: number) {
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-scale-"));
  cleanup.add("the scale row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  // A file, not ROBOTS: a thousand entries are longer than one environment variable may be.
  const robotsFile = join(dataDir, "robots.json");
  const entries = Array.from({ length: robots }, (_, i) => {
    const sim = sims[i % sims.length] as SimProcess;
    return { host: robotName(i), motor_url: sim.motorUrl, camera_url: sim.cameraUrl };
  });
  writeFileSync(robotsFile, JSON.stringify(entries));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      ROBOTS: "",
      ROBOTS_FILE: robotsFile,
      DATA_DIR: dataDir,
      SESSION_DURATION_MINUTES: "60",
      // The bench's drivers take turns, leaving gaps no real driver would: no dead-man stops in between.
      DEADMAN_MS: "60000",
      PAYMENT_ENABLED: "false",
    },
    ORPHAN_GUARD,
  );
  cleanup.add(`the scale row's server (${robots} robots)`, () => stopChild(server.child));
  return server;
}

/** Opens sessions `from` … `to - 1`, wallet i on robot i; returns how many are open. */
async function openSessions(url: string, from: number, to: number): Promise<number> {
  let next = from;
  const buyer = async () => {
    for (let i = next++; i < to; i = next++) {
      const answer = await request(`${url}/api/v1/access/purchase`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-wallet-address": wallet(i) },
        body: JSON.stringify({ robot_host: robotName(i) }),
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 200)
        throw new Error(`scale: purchase ${i} answered ${answer.statusCode} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: PURCHASE_CONCURRENCY }, buyer));
  return to;
}

/** Motor commands one at a time, the session's drivers taking turns; p50/p99 in ms. */
async function driveAll(url: string, sessions: number, samples: number) {
  const latencies: number[] = [];
  // Every driver's first command is untimed: it sets up that robot's driver, once per robot.
  const warmup = Math.max(WARMUP, sessions);
  for (let k = 0; k < warmup + samples; k++) {
    const started = performance.now();
    const answer = await request(`${url}/api/v1/robot/motor/forward`, {
      headers: { "x-wallet-address": wallet(k % sessions) },
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200)
      throw new Error(`scale: motor command answered ${answer.statusCode} ${text}`);
    if (k >= warmup) latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}
