/**
 * The robot link's rows: a motor command over the link on loopback (client → platform → link → robo402-link
 * → robot-sim's motor board) against the same command over HTTP to a robot-sim the platform calls
 * directly, and against HTTP straight to robot-sim; then camera fan-out over the link: 100 viewers of one
 * linked robot's stream, with the frames the bridge fetched from the camera board counted.
 *
 * Each part runs where it would: the platform, the linked robot and its bridge (the real `robo402-link`)
 * each in a process of their own, the client and the viewers here. The client keeps its connection to the
 * platform, as a browser or the SDK does; the boards close theirs, as the firmware does.
 *
 * `BENCH_ONLY=link npm run bench` runs these rows alone (and records them); `npx tsx bench/link.ts` prints them.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { startServer } from "../e2e/harness.ts";
import { postJson, registerLinkRobot, spawnBridge } from "./linked-robot.ts";
import { percentile } from "./measure.ts";
import { MjpegViewer } from "./mjpeg.ts";
import { ORPHAN_GUARD, readyMessage, spawnTs, startSimProcess, stopChild } from "./processes.ts";

export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

export interface LinkResult {
  readonly direct: Latency;
  readonly overHttp: Latency;
  readonly overLink: Latency;
  readonly camera: {
    readonly viewers: number;
    readonly seconds: number;
    /** Frames per second one viewer got, the mean over viewers. */
    readonly fpsPerViewer: number;
    /** Frames the bridge fetched from the camera board in the window, and frames one viewer got (mean). */
    readonly robotFrames: number;
    /** Camera requests the board refused in the window (503: within 100 ms of the last). */
    readonly robotBusy: number;
    readonly framesPerViewer: number;
  };
}

const HTTP_ROBOT = "bench-http-01";
const LINK_ROBOT = "bench-link-01";
const WALLET_HTTP = "0xbe4c000000000000000000000000000000000011";
const WALLET_LINK = "0xbe4c000000000000000000000000000000000012";
const WARMUP = 200;

async function latency(url: string, headers: Record<string, string>, samples: number): Promise<Latency> {
  const times: number[] = [];
  for (let i = 0; i < samples + WARMUP; i++) {
    const started = performance.now();
    const response = await request(url, { headers });
    await response.body.arrayBuffer();
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

export async function measureLink(options: {
  samples: number;
  viewers: number;
  seconds: number;
}): Promise<LinkResult> {
  const httpSim = await startSimProcess(HTTP_ROBOT);
  // The linked robot's camera board is counted: the frames its bridge fetched.
  const linkSim = spawnTs(new URL("./camera-sim-child.ts", import.meta.url), { NAME: LINK_ROBOT });
  const linkBoards = await readyMessage<{ motorUrl: string; cameraUrl: string; countUrl: string }>(
    linkSim,
    "the linked robot",
  );
  const boardCounts = async () => {
    const answer = await request(linkBoards.countUrl);
    return (await answer.body.json()) as { ok: number; busy: number };
  };
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-link-"));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      ROBOTS: JSON.stringify([
        { host: HTTP_ROBOT, motor_url: httpSim.motorUrl, camera_url: httpSim.cameraUrl },
      ]),
      DATA_DIR: dataDir,
      SESSION_DURATION_MINUTES: "60",
      PAYMENT_ENABLED: "false",
    },
    ORPHAN_GUARD,
  ).catch(async (error) => {
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([stopChild(httpSim.child), stopChild(linkSim)]);
    throw error;
  });
  let bridge: ChildProcess | undefined;
  try {
    const token = await registerLinkRobot(server.url, LINK_ROBOT, "bench-owner@robo402.test");
    bridge = spawnBridge(server.url, token, linkBoards);
    for (const [robot, wallet] of [
      [HTTP_ROBOT, WALLET_HTTP],
      [LINK_ROBOT, WALLET_LINK],
    ] as const) {
      for (;;) {
        const bought = await postJson(
          server.url,
          "/api/v1/access/purchase",
          { robot_host: robot },
          { "x-wallet-address": wallet },
        );
        if (bought.ok) break;
        // The linked robot is offline (503) until its bridge has dialed in.
        if (bought.status !== 503) throw new Error(`purchase of ${robot} answered ${bought.status}`);
        await sleep(200);
      }
    }

    const direct = await latency(`${httpSim.motorUrl}/motor/forward`, {}, options.samples);
    const overHttp = await latency(
      `${server.url}/api/v1/robot/motor/forward`,
      { "x-wallet-address": WALLET_HTTP },
      options.samples,
    );
    const overLink = await latency(
      `${server.url}/api/v1/robot/motor/forward`,
      { "x-wallet-address": WALLET_LINK },
      options.samples,
    );

    const viewers = Array.from(
      { length: options.viewers },
      () => new MjpegViewer(`${server.url}/api/v1/robot/camera/stream`, { "x-wallet-address": WALLET_LINK }),
    );
    try {
      await Promise.all(viewers.map((viewer) => viewer.firstFrame()));
      const before = await boardCounts();
      const from = performance.now();
      await sleep(options.seconds * 1000);
      const to = performance.now();
      const after = await boardCounts();
      const inWindow = viewers.map((viewer) => viewer.arrivals.filter((at) => at >= from && at <= to));
      const framesPerViewer = inWindow.reduce((sum, arrivals) => sum + arrivals.length, 0) / viewers.length;
      return {
        direct,
        overHttp,
        overLink,
        camera: {
          viewers: options.viewers,
          seconds: options.seconds,
          fpsPerViewer: framesPerViewer / ((to - from) / 1000),
          robotFrames: after.ok - before.ok,
          robotBusy: after.busy - before.busy,
          framesPerViewer,
        },
      };
    } finally {
      await Promise.all(viewers.map((viewer) => viewer.close().catch(() => {})));
    }
  } finally {
    if (bridge) await stopChild(bridge);
    await stopChild(server.child);
    await Promise.all([stopChild(httpSim.child), stopChild(linkSim)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function linkTable(result: LinkResult): string {
  const ms = (value: number) => value.toFixed(2);
  const { direct, overHttp, overLink, camera } = result;
  return [
    "| motor command | p50 ms | p99 ms | added at p50 over direct |",
    "| --- | --- | --- | --- |",
    `| HTTP straight to robot-sim | ${ms(direct.p50)} | ${ms(direct.p99)} | — |`,
    `| platform → HTTP robot | ${ms(overHttp.p50)} | ${ms(overHttp.p99)} | ${ms(overHttp.p50 - direct.p50)} |`,
    `| platform → link → robo402-link → robot-sim | ${ms(overLink.p50)} | ${ms(overLink.p99)} | ${ms(overLink.p50 - direct.p50)} (over platform → HTTP: ${ms(overLink.p50 - overHttp.p50)}) |`,
    "",
    `Camera over the link: ${camera.viewers} viewers for ${camera.seconds} s, ${camera.fpsPerViewer.toFixed(2)} fps per viewer; ` +
      `${camera.robotFrames} frames fetched from the robot (${camera.robotBusy} requests refused as too soon), ${camera.framesPerViewer.toFixed(1)} received by each viewer.`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureLink({ samples: 1000, viewers: 100, seconds: 5 });
  console.log(linkTable(result));
}
