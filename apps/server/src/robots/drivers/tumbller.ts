import { isIPv4 } from "node:net";
import type { MotorCommand } from "@robo402/protocol";
import { request } from "undici";
import { z } from "zod";
import { RobotBusyError, type RobotDriver, type RobotInfo, RobotUnavailableError } from "../driver.ts";
import type { RobotEntry } from "../registry.ts";
import type { LocalNameResolver } from "../resolver.ts";
import type { TimeKind } from "./kind.ts";

export interface TumbllerOptions {
  readonly resolver: LocalNameResolver;
  readonly timeoutMs: number;
  readonly cameraTimeoutMs: number;
}

// A QVGA JPEG from the ESP-EYE is tens of kilobytes; anything far larger is not a camera frame.
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const MAX_INFO_BYTES = 16 * 1024;

// The firmware sends `hostname`; the plan calls the same field `mdns_name`.
const InfoBody = z.object({
  hostname: z.string().optional(),
  mdns_name: z.string().optional(),
  ip: z.string().optional(),
});

/** The first plan's rules: an IP serves motor and camera; a name is `NAME.local` and `NAME-cam.local`. */
export function defaultAddresses(host: string): { motorUrl: string; cameraUrl: string } {
  if (isIPv4(host)) return { motorUrl: `http://${host}`, cameraUrl: `http://${host}` };
  return { motorUrl: `http://${host}.local`, cameraUrl: `http://${host}-cam.local` };
}

/**
 * The Tumbller HTTP kind: the firmware's motor board and ESP-EYE camera board, each on port 80, called by
 * the platform. Its public name stays "tumbller", which existing clients send.
 */
export const tumbllerKind: TimeKind = {
  sells: "time",
  services: ["drive"],
  description: "Tumbller self-balancing robot with a camera: drive it live, paid by time.",
  settings: z.null(),
  addresses: defaultAddresses,
  checkRegistration: () => null,
  driver: (entry, context) => tumbllerDriver(entry, context),
};

/** The Tumbller's HTTP firmware: motor board and ESP-EYE camera board, each on port 80. */
export function tumbllerDriver(entry: RobotEntry, options: TumbllerOptions): RobotDriver {
  const { resolver } = options;

  async function get(board: "motor" | "camera", path: string, limit: number): Promise<Buffer> {
    const base = board === "motor" ? entry.motorUrl : entry.cameraUrl;
    const timeoutMs = board === "motor" ? options.timeoutMs : options.cameraTimeoutMs;
    let url: string;
    try {
      url = await resolver.url(base);
    } catch {
      throw new RobotUnavailableError(board, `name ${new URL(base).hostname} did not resolve`);
    }
    try {
      const response = await request(`${url}${path}`, {
        method: "GET",
        // The firmware serves one client and closes every connection; saying so up front spares undici
        // an error (with its stack trace) per request for a socket it hoped to reuse.
        reset: true,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await readCapped(response.body, limit);
      if (board === "camera" && response.statusCode === 503) {
        throw new RobotBusyError(board, "busy (answered 503: asked within 100 ms of another frame)");
      }
      if (response.statusCode !== 200) {
        throw new RobotUnavailableError(board, `answered ${response.statusCode}`);
      }
      return body;
    } catch (error) {
      if (error instanceof RobotUnavailableError) throw error;
      resolver.forget(base);
      throw new RobotUnavailableError(board, `unreachable (${(error as Error).message})`);
    }
  }

  return {
    async info(): Promise<RobotInfo> {
      const body = await get("motor", "/info", MAX_INFO_BYTES);
      let parsed: z.infer<typeof InfoBody>;
      try {
        parsed = InfoBody.parse(JSON.parse(body.toString("utf8")));
      } catch {
        throw new RobotUnavailableError("motor", "sent an /info that is not the firmware's JSON");
      }
      return { name: parsed.hostname ?? parsed.mdns_name ?? null, ip: parsed.ip ?? null };
    },

    async command(command: MotorCommand): Promise<void> {
      await get("motor", `/motor/${command}`, MAX_INFO_BYTES);
    },

    async frame(): Promise<Uint8Array> {
      return get("camera", "/getImage", MAX_FRAME_BYTES);
    },

    async cameraAddress(): Promise<RobotInfo> {
      const { hostname } = new URL(entry.cameraUrl);
      if (!hostname.endsWith(".local")) return { name: null, ip: hostname };
      const ip = await resolver.cached(hostname)?.catch(() => null);
      return { name: hostname, ip: ip ?? null };
    },
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
