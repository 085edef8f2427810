import type { MotorCommand, Velocity } from "@robo402/protocol";
import { keptConnections } from "@robo402/robot-link";
import { z } from "zod";
import type { RobotEntry } from "../controlled.ts";
import { type RobotDriver, RobotUnavailableError } from "../driver.ts";
import { askBoard } from "./board.ts";
import type { DriverContext, TimeKind } from "./kind.ts";
import { tumbllerDriver, tumbllerKind } from "./tumbller.ts";

/**
 * A robot's limits, in its owner's words (`robots.settings`): the platform turns a buyer's fractions into
 * speeds no higher than these, and stops the robot when no command came for `watchdog_ms`.
 */
export const VelocitySettings = z.strictObject({
  /** Top speed the buyer's linear 1 means, in m/s. */
  max_linear: z.number().positive().max(10),
  /** Top turn rate the buyer's angular 1 means, in rad/s. */
  max_angular: z.number().positive().max(20),
  /** The platform's dead-man for this robot: at most one second, as a rover driven at 10 Hz needs. */
  watchdog_ms: z.number().int().min(100).max(1000),
});
export type VelocitySettings = z.infer<typeof VelocitySettings>;

// A rover acknowledges a command in a few bytes of JSON.
const MAX_ANSWER_BYTES = 16 * 1024;

/** What a velocity robot configured without settings (a simulated one) is held to. */
export const DEFAULT_VELOCITY_SETTINGS: VelocitySettings = {
  max_linear: 0.5,
  max_angular: 1.5,
  watchdog_ms: 500,
};

/**
 * A rover with a velocity API (robot-sim --velocity; FrodoBots' rovers take the same command): `POST
 * /velocity {"linear": m/s, "angular": rad/s}` on its address, `/info` and the Tumbller's camera board as the
 * Tumbller has them. Buyers send fractions in [-1, 1], about ten a second; `stop` is zero speeds.
 */
export const velocityKind: TimeKind = {
  sells: "time",
  services: ["drive"],
  description:
    "Rover with a velocity API and a camera: drive it live with linear and angular speed, paid by time.",
  settings: VelocitySettings,
  control: "velocity",
  addresses: (host) => tumbllerKind.addresses(host),
  checkRegistration: (registration) => tumbllerKind.checkRegistration(registration),
  driver: (entry, context) => velocityDriver(entry, context),
};

export function velocityDriver(entry: RobotEntry, context: DriverContext): RobotDriver {
  const limits = VelocitySettings.parse(entry.settings ?? DEFAULT_VELOCITY_SETTINGS);
  // Its identity and camera are the Tumbller firmware's; only motion differs.
  const { info, frame, cameraAddress } = tumbllerDriver(entry, context);
  const access = { resolver: context.resolver, guard: entry.ownerId ? context.ownersGuard : undefined };
  // Ten commands a second: a rover's API keeps its connections, unlike the Tumbller firmware.
  const kept = keptConnections(access.guard?.lookup);

  async function send(speeds: { linear: number; angular: number }): Promise<void> {
    const { status } = await askBoard(access, {
      board: "motor",
      base: entry.motorUrl,
      path: "/velocity",
      method: "POST",
      json: speeds,
      timeoutMs: context.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      kept,
    });
    if (status !== 200) throw new RobotUnavailableError("motor", `answered ${status}`);
  }

  return {
    info,
    frame,
    cameraAddress,
    deadmanMs: limits.watchdog_ms,
    // The clamp: a fraction in [-1, 1] (the protocol's Velocity refuses more) of the owner's limits.
    velocity: ({ linear, angular }: Velocity) =>
      send({ linear: linear * limits.max_linear, angular: angular * limits.max_angular }),
    command: async (command: MotorCommand) => {
      // RobotGateway refuses a Tumbller's motions before they reach a velocity robot; stop is zero speeds.
      if (command !== "stop") throw new Error(`a velocity robot takes no '${command}'`);
      await send({ linear: 0, angular: 0 });
    },
  };
}
