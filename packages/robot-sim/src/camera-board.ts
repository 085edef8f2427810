import type { ServerResponse } from "node:http";
import { type Handler, requestUrl, send } from "./http.ts";
import type { Pose } from "./physics.ts";
import { type Resolution, type Rotation, renderJpeg } from "./render.ts";

// QQVGA by default: the cheapest frame to draw and to send.
const QQVGA: Resolution = { width: 160, height: 120 };
const RESOLUTIONS = new Map<string, Resolution>([
  ["QQVGA", QQVGA],
  ["QVGA", { width: 320, height: 240 }],
  ["VGA", { width: 640, height: 480 }],
]);
const ROTATIONS: readonly Rotation[] = [0, 90, 180, 270];
// The ESP-EYE cannot capture faster; it refuses a request this soon after the last frame.
const MIN_FRAME_INTERVAL_MS = 100;

/** The ESP-EYE's firmware: frames drawn from the robot's pose, plus its resolution and rotation. */
export class CameraBoard {
  #resolution = QQVGA;
  #rotation: Rotation = 0;
  #lastFrameAt = Number.NEGATIVE_INFINITY;
  // jpeg-js rebuilds its tables on every encode (tens of ms), so a robot standing still reuses its frame.
  #cached: { key: string; jpeg: Buffer } | undefined;

  constructor(private readonly pose: () => Pose) {}

  readonly handle: Handler = (req, res) => {
    const url = requestUrl(req);
    if (req.method !== "GET") send(res, 404, "Not found");
    else if (url.pathname === "/getImage") this.#frame(res);
    else if (url.pathname === "/setResolution") {
      const resolution = RESOLUTIONS.get(url.searchParams.get("size") ?? "");
      if (!resolution) return send(res, 400, "size must be QQVGA, QVGA or VGA");
      this.#resolution = resolution;
      send(res, 200, "OK");
    } else if (url.pathname === "/rotate") {
      const rotation = ROTATIONS.find((known) => String(known) === url.searchParams.get("degrees"));
      if (rotation === undefined) return send(res, 400, "degrees must be 0, 90, 180 or 270");
      this.#rotation = rotation;
      send(res, 200, "OK");
    } else send(res, 404, "Not found");
  };

  reset(): void {
    this.#resolution = QQVGA;
    this.#rotation = 0;
    this.#lastFrameAt = Number.NEGATIVE_INFINITY;
  }

  #frame(res: ServerResponse): void {
    const now = performance.now();
    if (now - this.#lastFrameAt < MIN_FRAME_INTERVAL_MS) {
      send(res, 503, "Camera busy");
      return;
    }
    this.#lastFrameAt = now;
    const pose = this.pose();
    const { width, height } = this.#resolution;
    const key = `${pose.x},${pose.y},${pose.heading},${width}x${height},${this.#rotation}`;
    if (this.#cached?.key !== key) {
      this.#cached = { key, jpeg: renderJpeg(pose, this.#resolution, this.#rotation) };
    }
    send(res, 200, this.#cached.jpeg, "image/jpeg");
  }
}
