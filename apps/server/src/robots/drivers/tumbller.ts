import { isIPv4 } from "node:net";
import type { MotorCommand } from "@robo402/protocol";
import { z } from "zod";
import type { RobotEntry } from "../controlled.ts";
import {
  RobotBadAnswerError,
  RobotBusyError,
  type RobotDriver,
  type RobotInfo,
  RobotUnavailableError,
} from "../driver.ts";
import { askBoard } from "./board.ts";
import type { DriverContext, Registration, TimeKind } from "./kind.ts";

/** What the driver needs; an owner's robot is refused without the address guard to call it through. */
export type TumbllerOptions = Omit<DriverContext, "ownersGuard"> & Partial<DriverContext>;

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
  checkRegistration: ({ endpoint, cameraUrl }: Registration) =>
    bareOrigin("endpoint", endpoint) ?? (cameraUrl === null ? null : bareOrigin("camera_url", cameraUrl)),
  driver: (entry, context) => tumbllerDriver(entry, context),
};

// The driver appends the firmware's own paths; a path or query an owner adds would aim its requests
// somewhere else on that host.
function bareOrigin(field: string, url: string): string | null {
  const { pathname, search, hash } = new URL(url);
  if (pathname === "/" && !search && !hash) return null;
  return `${field} must be the board's address only, like http://robot.example.com:8080: a tumbller robot's URLs take no path, query or fragment (the platform adds the firmware's paths).`;
}

const isJpeg = (body: Buffer, type: string | undefined) =>
  // Every JPEG opens with SOI (FF D8) and a marker (FF); the firmware labels it image/jpeg.
  body.length > 3 &&
  body[0] === 0xff &&
  body[1] === 0xd8 &&
  body[2] === 0xff &&
  (type === undefined || type.split(";")[0]?.trim().toLowerCase() === "image/jpeg");

/** The Tumbller's HTTP firmware: motor board and ESP-EYE camera board, each on port 80. */
export function tumbllerDriver(entry: RobotEntry, options: TumbllerOptions): RobotDriver {
  const { resolver } = options;
  // An owner's addresses are its word: every connection goes through the address guard.
  const guard = entry.ownerId ? options.ownersGuard : undefined;
  if (entry.ownerId && !guard)
    throw new Error(`robot '${entry.id}' is an owner's and is called only through the address guard`);

  async function get(
    board: "motor" | "camera",
    path: string,
    maxBytes: number,
  ): Promise<{ body: Buffer; type: string | undefined }> {
    const camera = board === "camera";
    const { status, type, body } = await askBoard(
      { resolver, guard },
      {
        board,
        base: camera ? entry.cameraUrl : entry.motorUrl,
        path,
        timeoutMs: camera ? options.cameraTimeoutMs : options.timeoutMs,
        maxBytes,
      },
    );
    if (camera && status === 503)
      throw new RobotBusyError(board, "busy (answered 503: asked within 100 ms of another frame)");
    if (status !== 200) throw new RobotUnavailableError(board, `answered ${status}`);
    return { body, type };
  }

  return {
    async info(): Promise<RobotInfo> {
      const { body } = await get("motor", "/info", MAX_INFO_BYTES);
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
      const { body, type } = await get("camera", "/getImage", MAX_FRAME_BYTES);
      if (!isJpeg(body, type))
        throw new RobotBadAnswerError(
          "camera",
          `answered with something that is not a JPEG (${type ?? "no type"})`,
        );
      return body;
    },

    async cameraAddress(): Promise<RobotInfo> {
      const { hostname } = new URL(entry.cameraUrl);
      if (!hostname.endsWith(".local")) return { name: null, ip: hostname };
      const ip = await resolver.cached(hostname)?.catch(() => null);
      return { name: hostname, ip: ip ?? null };
    },
  };
}
