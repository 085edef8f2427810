import type { MotorCommand } from "@robo402/protocol";
import { RobotBusyError, type RobotDriver, type RobotInfo, RobotUnavailableError } from "../driver.ts";
import type { LinkAnswer, LinkRequest } from "./connection.ts";
import type { LinkHub } from "./hub.ts";

export interface LinkDriverOptions {
  /** A motor command's or `/info`'s whole round trip over the link. */
  readonly timeoutMs: number;
  readonly cameraTimeoutMs: number;
}

// Every JPEG starts with the SOI marker; anything else is not a camera frame.
const isJpeg = (data: Uint8Array) => data.length > 2 && data[0] === 0xff && data[1] === 0xd8;

/**
 * A robot that dialed in over the robot link: the same driver interface as an HTTP robot, so sessions,
 * the dead-man, the camera's shared poller, breakers, outage credit and metrics need not know.
 */
export function linkDriver(robotId: string, hub: LinkHub, options: LinkDriverOptions): RobotDriver {
  async function ask(request: LinkRequest): Promise<LinkAnswer & { ok: true }> {
    const board = request.type === "frame" ? "camera" : "motor";
    const timeoutMs = board === "camera" ? options.cameraTimeoutMs : options.timeoutMs;
    const answer = await hub.request(robotId, request, timeoutMs);
    if (answer.ok) return answer;
    if (answer.busy) throw new RobotBusyError(board, answer.error);
    throw new RobotUnavailableError(board, answer.error);
  }

  return {
    async info(): Promise<RobotInfo> {
      const { info } = await ask({ type: "info" });
      return { name: info?.name ?? null, ip: info?.ip ?? null };
    },

    async command(command: MotorCommand): Promise<void> {
      await ask({ type: "command", command });
    },

    async frame(): Promise<Uint8Array> {
      const { jpeg } = await ask({ type: "frame" });
      if (!jpeg || !isJpeg(jpeg))
        throw new RobotUnavailableError("camera", "sent a frame that is not a JPEG");
      return jpeg;
    },

    // The camera sits on the robot's own LAN: the platform never knows its address.
    async cameraAddress(): Promise<RobotInfo> {
      return { name: null, ip: null };
    },
  };
}
