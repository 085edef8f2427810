import { normalizeHeading, type Pose, ROOM_SIZE_M, startPose } from "./physics.ts";

/** Speeds in SI units: metres per second forward, radians per second counter-clockwise. */
export interface Speeds {
  linear: number;
  angular: number;
}

export interface VelocityLimits {
  maxLinear: number;
  maxAngular: number;
  /** No command for this long and the robot sets its speeds to zero by itself. */
  watchdogMs: number;
}

/** What a velocity robot's pose shows: where it is, how fast it goes now, and what last stopped it. */
export interface VelocityPose extends Pose, Speeds {
  /** `command`: a zero-speed command; `watchdog`: its own timeout; null while it moves (or never moved). */
  stoppedBy: "command" | "watchdog" | null;
}

const WALL_CLEARANCE_M = 0.15;
const clampToRoom = (metres: number) =>
  Math.min(ROOM_SIZE_M - WALL_CLEARANCE_M, Math.max(WALL_CLEARANCE_M, metres));
const clamp = (value: number, limit: number) => Math.min(limit, Math.max(-limit, value));

/**
 * A unicycle-model rover (differential drive): constant speeds between commands trace an arc, which is
 * integrated exactly. The walls clamp the end point, an approximation good enough for a room-sized sim.
 */
export function travel(from: Pose, { linear, angular }: Speeds, seconds: number): Pose {
  const theta = (from.heading * Math.PI) / 180;
  const turned = angular * seconds;
  // Below this turn the arc is a straight line to double precision.
  const straight = Math.abs(turned) < 1e-9;
  const dx = straight
    ? linear * seconds * Math.cos(theta)
    : (linear / angular) * (Math.sin(theta + turned) - Math.sin(theta));
  const dy = straight
    ? linear * seconds * Math.sin(theta)
    : (linear / angular) * (Math.cos(theta) - Math.cos(theta + turned));
  return {
    x: clampToRoom(from.x + dx),
    y: clampToRoom(from.y + dy),
    heading: normalizeHeading(from.heading + (turned * 180) / Math.PI),
  };
}

/**
 * The rover's body. Like the Tumbller's, nothing ticks: the pose is worked out from the clock when read,
 * and the watchdog is the moment the speeds it was given run out.
 */
export class VelocityBody {
  #origin = startPose();
  #speeds: Speeds = { linear: 0, angular: 0 };
  #since = 0;
  #stoppedBy: "command" | null = null;

  constructor(
    readonly limits: VelocityLimits,
    private readonly now: () => number = Date.now,
  ) {}

  pose(at = this.now()): VelocityPose {
    const watchdogAt = this.#since + this.limits.watchdogMs;
    const moving = this.#speeds.linear !== 0 || this.#speeds.angular !== 0;
    const pose = travel(this.#origin, this.#speeds, (Math.min(at, watchdogAt) - this.#since) / 1000);
    if (moving && at >= watchdogAt) return { ...pose, linear: 0, angular: 0, stoppedBy: "watchdog" };
    return { ...pose, ...this.#speeds, stoppedBy: moving ? null : this.#stoppedBy };
  }

  /** Takes new speeds, clamped to its own limits; answers what it applied. */
  command(wanted: Speeds): Speeds {
    const at = this.now();
    const { x, y, heading } = this.pose(at);
    this.#origin = { x, y, heading };
    this.#speeds = {
      linear: clamp(wanted.linear, this.limits.maxLinear),
      angular: clamp(wanted.angular, this.limits.maxAngular),
    };
    this.#since = at;
    if (this.#speeds.linear === 0 && this.#speeds.angular === 0) this.#stoppedBy = "command";
    return { ...this.#speeds };
  }

  reset(): void {
    this.#origin = startPose();
    this.#speeds = { linear: 0, angular: 0 };
    this.#stoppedBy = null;
  }
}
