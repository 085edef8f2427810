/**
 * Camera fan-out: frames per second delivered to 1, 10 and 100 viewers of one robot's
 * /api/v1/robot/camera/stream, against what one poller asking the camera board directly gets, with the
 * requests the camera board received in each window. Viewers × fps should grow while camera requests
 * stay flat (the platform's one poller per camera).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { startServer } from "../e2e/harness.ts";
import { MjpegViewer } from "./mjpeg.ts";
import { type Cleanup, ORPHAN_GUARD, readyMessage, spawnTs, stopChild } from "./processes.ts";

export interface CameraWindow {
  readonly viewers: number;
  /** Frames per second one viewer got, the mean over viewers. */
  readonly fpsPerViewer: number;
  /** Frames per second delivered to all viewers together. */
  readonly fpsTotal: number;
  /** Requests the camera board received in the window, and how many it refused (503, too soon). */
  readonly cameraRequests: number;
  readonly cameraBusy: number;
}

export interface CameraResult {
  readonly seconds: number;
  readonly intervalMs: number;
  /** One poller asking the camera board itself every `intervalMs`, as the platform's poller does. */
  readonly direct: CameraWindow;
  readonly platform: CameraWindow[];
}

interface Counts {
  requests: number;
  ok: number;
  busy: number;
}

const ROBOT = "bench-camera";
const WALLET = "0xbe4c000000000000000000000000000000000002";

export async function measureCameraFanout(
  cleanup: Cleanup,
  options: { viewers: readonly number[]; seconds: number; intervalMs: number },
): Promise<CameraResult> {
  const simChild = spawnTs(new URL("./camera-sim-child.ts", import.meta.url), { NAME: ROBOT });
  cleanup.add("the camera row's robot-sim", () => stopChild(simChild));
  const sim = await readyMessage<{ motorUrl: string; cameraUrl: string; countUrl: string }>(
    simChild,
    "the camera row's robot-sim",
  );
  const counts = async (): Promise<Counts> => {
    const answer = await request(sim.countUrl);
    return (await answer.body.json()) as Counts;
  };

  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-camera-"));
  cleanup.add("the camera row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      ROBOTS: JSON.stringify([{ host: ROBOT, motor_url: sim.motorUrl, camera_url: sim.cameraUrl }]),
      DATA_DIR: dataDir,
      SESSION_DURATION_MINUTES: "60",
      CAMERA_INTERVAL_MS: String(options.intervalMs),
      PAYMENT_ENABLED: "false",
    },
    ORPHAN_GUARD,
  );
  cleanup.add("the camera row's server", () => stopChild(server.child));
  const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-wallet-address": WALLET },
    body: JSON.stringify({ robot_host: ROBOT }),
  });
  if (!bought.ok) throw new Error(`camera row: purchase answered ${bought.status} ${await bought.text()}`);

  // The direct poller first, while the platform's poller has never started: the board has one client.
  const direct = await countWindow(1, counts, options.seconds, () =>
    directPoller(sim.cameraUrl, options.intervalMs),
  );
  const platform: CameraWindow[] = [];
  for (const viewers of options.viewers) {
    platform.push(
      await countWindow(viewers, counts, options.seconds, () =>
        viewing(`${server.url}/api/v1/robot/camera/stream`, { "x-wallet-address": WALLET }, viewers),
      ),
    );
  }
  await stopChild(server.child);
  await stopChild(simChild);
  return { seconds: options.seconds, intervalMs: options.intervalMs, direct, platform };
}

/** Something receiving frames: ready once every receiver has its first; when each frame arrived. */
interface Receivers {
  ready(): Promise<void>;
  arrivals(): ReadonlyArray<readonly number[]>;
  close(): Promise<void>;
}

/**
 * A receiver's frames per second between `from` and `to`, from the spacing of the frames inside: unlike
 * a count over the window, it does not depend on where the window falls between two frames.
 */
function fps(arrivals: readonly number[], from: number, to: number): number {
  const inside = arrivals.filter((at) => at >= from && at <= to);
  const [first, last] = [inside[0], inside.at(-1)];
  if (first === undefined || last === undefined || last === first) return 0;
  return ((inside.length - 1) * 1000) / (last - first);
}

async function countWindow(
  viewers: number,
  counts: () => Promise<Counts>,
  seconds: number,
  start: () => Receivers,
): Promise<CameraWindow> {
  const receivers = start();
  try {
    await receivers.ready();
    const before = await counts();
    const from = performance.now();
    await sleep(seconds * 1000);
    const to = performance.now();
    const after = await counts();
    const total = receivers.arrivals().reduce((sum, arrivals) => sum + fps(arrivals, from, to), 0);
    return {
      viewers,
      fpsPerViewer: total / viewers,
      fpsTotal: total,
      cameraRequests: after.requests - before.requests,
      cameraBusy: after.busy - before.busy,
    };
  } finally {
    await receivers.close();
  }
}

function viewing(url: string, headers: Record<string, string>, viewers: number): Receivers {
  const all = Array.from({ length: viewers }, () => new MjpegViewer(url, headers));
  return {
    ready: async () => {
      await Promise.all(all.map((viewer) => viewer.firstFrame()));
    },
    arrivals: () => all.map((viewer) => viewer.arrivals),
    close: async () => {
      await Promise.all(all.map((viewer) => viewer.close()));
    },
  };
}

/** Asks the camera board for a JPEG every `intervalMs` (start to start), one request at a time. */
function directPoller(cameraUrl: string, intervalMs: number): Receivers {
  const arrivals: number[] = [];
  let stopped = false;
  let first: () => void = () => {};
  const firstFrame = new Promise<void>((resolve) => {
    first = resolve;
  });
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      const answer = await request(`${cameraUrl}/getImage`);
      const jpeg = Buffer.from(await answer.body.arrayBuffer());
      if (answer.statusCode === 200 && jpeg[0] === 0xff && jpeg[1] === 0xd8) {
        arrivals.push(performance.now());
        first();
      }
      const wait = intervalMs - (performance.now() - started);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    ready: () => Promise.race([firstFrame, loop]),
    arrivals: () => [arrivals],
    close: async () => {
      stopped = true;
      await loop;
    },
  };
}
