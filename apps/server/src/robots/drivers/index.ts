import type { RobotDriver as KindName } from "@robo402/protocol";
import type { RobotEntry } from "../controlled.ts";
import type { RobotDriver } from "../driver.ts";
import { httpServiceKind } from "./http-service.ts";
import type { DriverContext, RobotKind } from "./kind.ts";
import { linkKind } from "./link.ts";
import { tumbllerKind } from "./tumbller.ts";
import { velocityKind } from "./velocity.ts";

/**
 * Every kind of robot, by the name the API and the database use. A new kind is its file here and one line
 * below (and its name in the protocol's ROBOT_KINDS, which the typecheck demands).
 */
const KINDS: Record<KindName, RobotKind> = {
  "http-service": httpServiceKind,
  tumbller: tumbllerKind,
  link: linkKind,
  velocity: velocityKind,
};

export function robotKind(name: KindName): RobotKind {
  return KINDS[name];
}

/** The driver of a robot sold by time, built by its kind. */
export function buildDriver(entry: RobotEntry, context: DriverContext): RobotDriver {
  const kind = robotKind(entry.driver);
  // The catalog lists only robots with a host, which only time kinds take (RobotCatalog.create).
  if (kind.sells !== "time") throw new Error(`robot '${entry.id}' is a ${entry.driver} robot, not driven`);
  return kind.driver(entry, context);
}
