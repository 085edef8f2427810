import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { defineService, ServiceError } from "./service.ts";

export interface SnapshotOptions {
  /** The Tumbller camera board, e.g. a RobotSim's `cameraUrl`. */
  cameraUrl: string;
  /** How long one frame request may take; default 5000 ms. */
  cameraTimeoutMs?: number;
}

// The ESP-EYE answers 503 to a frame asked for within 100 ms of the last one: wait a little longer.
const BUSY_RETRY_MS = 120;
const BUSY_ATTEMPTS = 5;

const Snapshot = z.object({
  image: z.string().describe("the JPEG, base64"),
  content_type: z.literal("image/jpeg"),
  bytes: z.number().int().describe("size of the JPEG in bytes"),
  taken_at: z.iso.datetime(),
});

async function fetchFrame(url: string, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ServiceError(502, `the camera board is unreachable (${(error as Error).message})`);
    }
    if (response.status === 503 && attempt < BUSY_ATTEMPTS) {
      await response.body?.cancel();
      await delay(BUSY_RETRY_MS, undefined, { signal });
      continue;
    }
    if (response.status === 503) {
      await response.body?.cancel();
      throw new ServiceError(503, "the camera is busy; try again in a moment");
    }
    if (response.status !== 200 || response.headers.get("content-type") !== "image/jpeg") {
      await response.body?.cancel();
      throw new ServiceError(502, `the camera board answered ${response.status} without a JPEG`);
    }
    return Buffer.from(await response.arrayBuffer());
  }
}

/** Takes the camera board's current frame. */
export function snapshotService({ cameraUrl, cameraTimeoutMs = 5000 }: SnapshotOptions) {
  const frameUrl = new URL("/getImage", cameraUrl).href;
  return defineService({
    name: "snapshot",
    description: "The robot camera's current picture, as a base64 JPEG.",
    input: z.object({}).strict().optional().describe("nothing, or an empty object"),
    output: Snapshot,
    async run(_input, signal) {
      const jpeg = await fetchFrame(frameUrl, cameraTimeoutMs, signal);
      return {
        image: jpeg.toString("base64"),
        content_type: "image/jpeg" as const,
        bytes: jpeg.length,
        taken_at: new Date().toISOString(),
      };
    },
  });
}
