import { randomUUID } from "node:crypto";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterEach, describe, expect, it } from "vitest";
import { openKv } from "../src/kv/index.ts";
import { type CountingProxy, countingProxy } from "./counting-proxy.ts";
import { eventually, sleep, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

// Needs a Redis shared by two platforms; without REDIS_URL this file reports its test skipped.
const REDIS_URL = process.env.REDIS_URL;
const ROBOT = "finland-tumbller-01";
const INTERVAL_MS = 200;

let sim: RobotSim | undefined;
let camera: CountingProxy | undefined;
const platforms: TestPlatform[] = [];
afterEach(async () => {
  await Promise.all(platforms.splice(0).map((t) => t.close()));
  await camera?.close();
  await sim?.close();
});

/** A viewer of `/api/v1/robot/camera/stream`, counting the JPEG parts it receives. */
async function watch(t: TestPlatform, viewer: string) {
  expect((await t.purchase(viewer, ROBOT)).status).toBe(200);
  const response = await t.request("/api/v1/robot/camera/stream", { wallet: viewer });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const seen = { frames: 0 };
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || !value) return;
      seen.frames += Buffer.from(value).toString("latin1").split("Content-Type: image/jpeg").length - 1;
    }
  })();
  return { seen, stop: () => reader.cancel().catch(() => {}) };
}

describe.skipIf(!REDIS_URL)(
  REDIS_URL ? "two server processes" : "two server processes (needs REDIS_URL)",
  () => {
    it("share one poller per camera through a Redis lease, and the other takes over when the holder goes", async () => {
      sim = await startRobotSim({ name: ROBOT });
      const counted = await countingProxy(sim.cameraUrl);
      camera = counted;
      const env = {
        ROBOTS: JSON.stringify([{ host: ROBOT, motor_url: sim.motorUrl, camera_url: counted.url }]),
        REDIS_PREFIX: `robo402-test-${randomUUID()}:`,
        CAMERA_INTERVAL_MS: String(INTERVAL_MS),
      };
      // Each has its own database (so each can sell the robot to its own viewer); they share Redis only.
      const [a, b] = await Promise.all([
        startTestPlatform({ robots: [], env }),
        startTestPlatform({ robots: [], env }),
      ]);
      if (!a || !b) throw new Error("platforms did not start");
      platforms.push(a, b);

      const viewerA = await watch(a, wallet(1));
      const viewerB = await watch(b, wallet(2));
      expect(await eventually(() => viewerA.seen.frames > 0 && viewerB.seen.frames > 0, 5000)).toBe(true);

      const [framesA, framesB, requests, from] = [
        viewerA.seen.frames,
        viewerB.seen.frames,
        counted.count("/getImage"),
        Date.now(),
      ];
      await sleep(2000);
      const elapsed = Date.now() - from;
      const made = counted.count("/getImage") - requests;
      // One poller: at most one request per interval over the window (two would make about twice that).
      expect(made).toBeLessThanOrEqual(Math.floor(elapsed / INTERVAL_MS) + 1);
      expect(made).toBeGreaterThan(0);
      expect(counted.maxInFlight).toBe(1);
      expect(viewerA.seen.frames).toBeGreaterThan(framesA);
      expect(viewerB.seen.frames).toBeGreaterThan(framesB);

      // The first platform goes away (its viewer first); the second keeps its viewer supplied.
      await viewerA.stop();
      platforms.splice(platforms.indexOf(a), 1);
      await a.close();
      const afterClose = { frames: viewerB.seen.frames, requests: counted.count("/getImage") };
      expect(await eventually(() => viewerB.seen.frames >= afterClose.frames + 5, 5000)).toBe(true);
      expect(counted.count("/getImage")).toBeGreaterThan(afterClose.requests);
      expect(counted.maxInFlight).toBe(1);
      await viewerB.stop();
    });
  },
);

describe.each([
  { engine: "memory", url: undefined },
  { engine: "redis", url: REDIS_URL },
])("a lease in the $engine store", ({ engine, url }) => {
  it.skipIf(engine === "redis" && !url)(
    "has one holder, renews for it, and is given up only by it",
    async () => {
      const kv = await openKv(url, `robo402-test-${randomUUID()}:`);
      try {
        expect(await kv.lease("camera", "a", 60_000)).toBe(true);
        expect(await kv.lease("camera", "b", 60_000)).toBe(false);
        expect(await kv.lease("camera", "a", 60_000)).toBe(true);
        await kv.unlease("camera", "b");
        expect(await kv.lease("camera", "b", 60_000)).toBe(false);
        await kv.unlease("camera", "a");
        expect(await kv.lease("camera", "b", 60_000)).toBe(true);
        // A holder that stops renewing loses it when its time runs out.
        expect(await kv.lease("short", "a", 50)).toBe(true);
        expect(await eventually(() => kv.lease("short", "b", 60_000), 2000)).toBe(true);
      } finally {
        await kv.close();
      }
    },
  );
});
