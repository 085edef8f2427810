import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config.ts";
import { MemoryKv } from "../src/kv/memory.ts";
import { MemoryPubSub } from "../src/kv/pubsub-memory.ts";
import { CameraFeed, type Frame } from "../src/robots/camera.ts";
import { RobotBusyError, type RobotDriver } from "../src/robots/driver.ts";

// The poller on a fake clock against a camera board that keeps the ESP-EYE's rule on that clock: what
// is counted (requests, refusals, frames per viewer) does not depend on how loaded the machine is.
const FIRMWARE_MIN_INTERVAL_MS = 100;
const DEFAULTS = loadConfig({});
// How long a request takes to reach the board: it varies, and the board's 100 ms run from its arrival.
const NETWORK_DELAYS_MS = [4, 0, 3, 1, 2, 0, 4];

/** The ESP-EYE: 503 "busy" within 100 ms of the last frame it served; each frame numbered. */
class FirmwareCamera {
  requests = 0;
  refused = 0;
  served = 0;
  #lastFrameAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly refuseFirst = 0) {}

  readonly driver: RobotDriver = {
    info: async () => ({ name: null, ip: null }),
    command: async () => {},
    cameraAddress: async () => ({ name: null, ip: null }),
    frame: async () => {
      const delay = NETWORK_DELAYS_MS[this.requests % NETWORK_DELAYS_MS.length] ?? 0;
      this.requests++;
      await new Promise((resolve) => setTimeout(resolve, delay));
      const now = performance.now();
      if (this.requests <= this.refuseFirst || now - this.#lastFrameAt < FIRMWARE_MIN_INTERVAL_MS) {
        this.refused++;
        throw new RobotBusyError("camera", "busy (answered 503)");
      }
      this.#lastFrameAt = now;
      this.served++;
      return Buffer.from([0xff, 0xd8, 0xff, this.served >> 8, this.served & 0xff]);
    },
  };
}

const frameNumber = (frame: Frame) => ((frame.jpeg[3] ?? 0) << 8) | (frame.jpeg[4] ?? 0);

function feedOf(camera: FirmwareCamera): CameraFeed {
  return new CameraFeed(
    "finland-tumbller-01",
    camera.driver,
    // The platform's default interval (config.ts).
    { intervalMs: DEFAULTS.CAMERA_INTERVAL_MS, timeoutMs: DEFAULTS.CAMERA_TIMEOUT_MS, idleMs: 5000 },
    { kv: new MemoryKv(), pubsub: new MemoryPubSub(), instance: "this" },
    pino({ level: "silent" }),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the camera poller against the firmware's 100 ms rule", () => {
  it("gives every viewer each frame once, at 9 or more a second, and never trips the rule", async () => {
    const camera = new FirmwareCamera();
    const feed = feedOf(camera);
    const viewers = Array.from({ length: 5 }, () => [] as number[]);
    const unsubscribe = viewers.map((frames) => feed.subscribe((frame) => frames.push(frameNumber(frame))));

    await vi.advanceTimersByTimeAsync(10_000);
    for (const stop of unsubscribe) stop();
    const closed = feed.close();
    await vi.runAllTimersAsync();
    await closed;

    expect(camera.refused).toBe(0);
    expect(camera.requests).toBe(camera.served);
    // The rule allows at most one frame per 100 ms; the poller takes 9 or more a second of it.
    expect(camera.served).toBeLessThanOrEqual(100);
    expect(camera.served).toBeGreaterThanOrEqual(90);
    for (const frames of viewers) {
      expect(new Set(frames).size).toBe(frames.length);
      expect(frames.length).toBeGreaterThanOrEqual(camera.served - 1);
    }
  });

  it("asks a busy camera again shortly instead of a whole interval later", async () => {
    const camera = new FirmwareCamera(1);
    const feed = feedOf(camera);
    const frames: number[] = [];
    const stop = feed.subscribe((frame) => frames.push(frameNumber(frame)));

    // The first answer is "busy"; the retry 10 ms on gets the frame well before the next interval.
    await vi.advanceTimersByTimeAsync(50);
    expect(camera.refused).toBe(1);
    expect(frames).toEqual([1]);
    stop();
    const closed = feed.close();
    await vi.runAllTimersAsync();
    await closed;
  });
});
