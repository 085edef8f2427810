import type { z } from "zod";
import type { RobotEntry } from "../controlled.ts";
import type { RobotDriver } from "../driver.ts";
import type { AddressGuard } from "../endpoint-guard.ts";
import type { LinkHub } from "../link/hub.ts";
import type { LocalNameResolver } from "../resolver.ts";

/** What the app hands every kind when it builds a driver: the platform's shared parts. */
export interface DriverContext {
  readonly resolver: LocalNameResolver;
  /** A motor command's whole round trip. */
  readonly timeoutMs: number;
  readonly cameraTimeoutMs: number;
  /**
   * Where connections to an owner's robot come from: the connect-time address guard
   * (robots/endpoint-guard.ts). Robots the operator configured are called directly.
   */
  readonly ownersGuard: AddressGuard;
  /** The robot links of the cluster, for the robots that dial in (a platform without them has none). */
  readonly links?: LinkHub;
}

/** What an owner registers, as a kind judges it. */
export interface Registration {
  readonly endpoint: string;
  readonly cameraUrl: string | null;
}

interface KindBase {
  /** Shown when neither the owner nor the configuration describes the robot. */
  readonly description: string;
  /** Validates the kind's own `robots.settings` (null when it has none); the messages reach the owner. */
  readonly settings: z.ZodType;
  /** A refusal of an owner's registration for this kind's own rules (a sentence for the 422), or null. */
  checkRegistration(registration: Registration): string | null;
}

/** A robot bought by time: a session, then live control through a driver. */
export interface TimeKind extends KindBase {
  readonly sells: "time";
  /** What its listing sells; the owner does not choose. */
  readonly services: readonly string[];
  /**
   * The robot dials in over the robot link with a device token, which its owner gets on registering it:
   * it has no endpoint for the platform to call.
   */
  readonly dialsIn?: true;
  /** What its buyers send (RobotResponse.control): motor commands unless it says velocity. */
  readonly control?: "velocity";
  /** Where it is reached when only its `robot_host` is known (`ROBOTS=finland-tumbller-01`). */
  addresses(host: string): { motorUrl: string; cameraUrl: string };
  driver(entry: RobotEntry, context: DriverContext): RobotDriver;
}

/** A robot paid per call: execute/ posts each job to its endpoint. */
export interface CallKind extends KindBase {
  readonly sells: "calls";
}

/** One kind of robot (robots/drivers/index.ts lists them). */
export type RobotKind = TimeKind | CallKind;

/** Whether robots of this kind dial in over the robot link (and hold a device token) instead of being called. */
export const dialsIn = (kind: RobotKind): boolean => kind.sells === "time" && kind.dialsIn === true;
