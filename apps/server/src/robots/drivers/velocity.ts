import type { MotorCommand, Velocity } from "@robo402/protocol";
import { request } from "undici";
import { z } from "zod";
import { type RobotDriver, RobotUnavailableError } from "../driver.ts";
import { EndpointRefusedError } from "../endpoint-guard.ts";
import type { RobotEntry } from "../registry.ts";
import { deadline } from "./deadline.ts";
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
  const dispatcher = entry.ownerId ? context.ownersDispatcher : undefined;

  async function send(speeds: { linear: number; angular: number }): Promise<void> {
    let url: string;
    try {
      url = await context.resolver.url(entry.motorUrl);
    } catch {
      throw new RobotUnavailableError("motor", `name ${new URL(entry.motorUrl).hostname} did not resolve`);
    }
    const timeout = deadline(context.timeoutMs);
    try {
      const response = await request(new URL("/velocity", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(speeds),
        dispatcher,
        headersTimeout: context.timeoutMs,
        bodyTimeout: context.timeoutMs,
        signal: timeout.signal,
      });
      await response.body.dump();
      if (response.statusCode !== 200)
        throw new RobotUnavailableError("motor", `answered ${response.statusCode}`);
    } catch (error) {
      if (error instanceof RobotUnavailableError) throw error;
      if (error instanceof EndpointRefusedError)
        throw new RobotUnavailableError("motor", `refused by the platform: ${error.message}`);
      context.resolver.forget(entry.motorUrl);
      throw new RobotUnavailableError("motor", `unreachable (${(error as Error).message})`);
    } finally {
      timeout.clear();
    }
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
      // RobotService refuses a Tumbller's motions before they reach a velocity robot; stop is zero speeds.
      if (command !== "stop") throw new Error(`a velocity robot takes no '${command}'`);
      await send({ linear: 0, angular: 0 });
    },
  };
}
