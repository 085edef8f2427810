import type { IncomingMessage } from "node:http";
import { createServer } from "node:http";
import { z } from "zod";
import { CameraBoard } from "./camera-board.ts";
import {
  closeServer,
  guard,
  listen,
  PayloadTooLargeError,
  readBody,
  requestUrl,
  send,
  sendJson,
} from "./http.ts";
import { type Speeds, VelocityBody, type VelocityLimits, type VelocityPose } from "./unicycle.ts";

export type { Speeds, VelocityLimits, VelocityPose } from "./unicycle.ts";

export interface VelocityRobotOptions {
  /** What `/info` reports, e.g. `finland-rover-01`. */
  name: string;
  /** Address both ports listen on; default 127.0.0.1. */
  host?: string;
  /** The rover's API (0, the default, picks a free port). */
  port?: number;
  /** The camera, the Tumbller's ESP-EYE firmware (0, the default, picks a free port). */
  cameraPort?: number;
  /** Its own limits; defaults: 1 m/s, π rad/s, and a 1000 ms watchdog. */
  limits?: Partial<VelocityLimits>;
}

export interface VelocityRobot {
  readonly name: string;
  /** `POST /velocity`, `GET /pose`, `GET /info`, `POST /_sim/reset`. */
  readonly url: string;
  readonly cameraUrl: string;
  readonly limits: VelocityLimits;
  pose(): VelocityPose;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_LIMITS: VelocityLimits = { maxLinear: 1, maxAngular: Math.PI, watchdogMs: 1000 };
const MAX_BODY_BYTES = 1024;
const SpeedsBody = z.strictObject({ linear: z.number(), angular: z.number() });

/**
 * A rover with a velocity API, as FrodoBots' rovers take commands: `POST /velocity {"linear", "angular"}` in
 * m/s and rad/s (counter-clockwise positive), clamped to its own limits and held until the next command or
 * its watchdog, which sets both to zero when no command came for `watchdogMs`. `GET /pose` shows where it
 * is, its speeds now and what last stopped it.
 */
export async function startVelocityRobot(options: VelocityRobotOptions): Promise<VelocityRobot> {
  const { name, host = "127.0.0.1", port = 0, cameraPort = 0 } = options;
  if (typeof name !== "string" || name.trim() === "") throw new TypeError("a velocity robot needs a name");
  // A limit given as undefined (a CLI flag left out) keeps its default.
  const given = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined);
  const limits: VelocityLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  for (const [limit, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`limits.${limit} must be > 0`);
  }
  const body = new VelocityBody(limits);
  const camera = new CameraBoard(() => body.pose());
  const closing = new AbortController();

  const velocity = async (req: IncomingMessage) => {
    let wanted: Speeds;
    try {
      wanted = SpeedsBody.parse(JSON.parse(await readBody(req, MAX_BODY_BYTES)));
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return { status: 413, error: error.message };
      return { status: 400, error: 'send JSON {"linear": m/s, "angular": rad/s}, both numbers' };
    }
    return { status: 200, applied: body.command(wanted) };
  };

  const api = createServer(
    guard(async (req, res) => {
      const route = `${req.method} ${requestUrl(req).pathname}`;
      if (route === "POST /velocity") {
        const { status, ...answer } = await velocity(req);
        sendJson(res, status, answer);
      } else if (route === "GET /pose") sendJson(res, 200, body.pose());
      else if (route === "GET /info")
        sendJson(res, 200, {
          hostname: name,
          ip: (req.socket.localAddress ?? "").replace(/^::ffff:/, ""),
          limits,
        });
      else if (route === "POST /_sim/reset") {
        body.reset();
        camera.reset();
        sendJson(res, 200, body.pose());
      } else send(res, 404, "Not found");
    }, closing.signal),
  );
  const cameraServer = createServer(guard(camera.handle, closing.signal));
  const close = async () => {
    closing.abort();
    await Promise.all([closeServer(api), closeServer(cameraServer)]);
  };
  let ports: [number, number];
  try {
    ports = [await listen(api, port, host), await listen(cameraServer, cameraPort, host)];
  } catch (error) {
    await close();
    throw error;
  }
  const base = host.includes(":") ? `[${host}]` : host;
  return {
    name,
    url: `http://${base}:${ports[0]}`,
    cameraUrl: `http://${base}:${ports[1]}`,
    limits,
    pose: () => body.pose(),
    reset: () => {
      body.reset();
      camera.reset();
    },
    close,
  };
}
