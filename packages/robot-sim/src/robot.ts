import { integrate, type Motion, type Pose, startPose } from "./physics.ts";

export type MotorCommand = Motion | "stop";

export interface CommandLogEntry {
  /** When the command arrived, in epoch milliseconds. */
  at: number;
  command: MotorCommand;
  /** The pose when the command arrived, where its motion starts. */
  pose: Pose;
}

/** How long each motion runs before the firmware stops it by itself. */
type MotionDurations = Record<Motion, number>;

export const FIRMWARE_DURATIONS_MS: MotionDurations = { forward: 2000, back: 2000, left: 1000, right: 1000 };

// A sim left running for days must not grow without bound; tests and dashboards need far fewer.
const MAX_LOG_ENTRIES = 1000;

/**
 * The robot's body. Nothing ticks: the pose is worked out from the clock whenever it is read, so a
 * read mid-move sees the in-between pose and the firmware's auto-stop needs no timer.
 */
export class Robot {
  #origin = startPose();
  #motion: Motion | null = null;
  #startedAt = 0;
  #endsAt = 0;
  #log: CommandLogEntry[] = [];

  constructor(
    private readonly durationsMs: MotionDurations,
    private readonly now: () => number = Date.now,
  ) {}

  pose(at = this.now()): Pose {
    if (!this.#motion) return { ...this.#origin };
    const seconds = (Math.min(at, this.#endsAt) - this.#startedAt) / 1000;
    return integrate(this.#origin, this.#motion, seconds);
  }

  moving(): Motion | null {
    return this.#motion && this.now() < this.#endsAt ? this.#motion : null;
  }

  /** Replaces the current motion, as the firmware does, and restarts its stop timer. */
  command(command: MotorCommand): void {
    const at = this.now();
    const pose = this.pose(at);
    this.#origin = pose;
    this.#motion = command === "stop" ? null : command;
    this.#startedAt = at;
    this.#endsAt = command === "stop" ? at : at + this.durationsMs[command];
    this.#log.push({ at, command, pose: { ...pose } });
    if (this.#log.length > MAX_LOG_ENTRIES) this.#log.shift();
  }

  commands(): readonly CommandLogEntry[] {
    return this.#log.map((entry) => ({ ...entry, pose: { ...entry.pose } }));
  }

  reset(): void {
    this.#origin = startPose();
    this.#motion = null;
    this.#log = [];
  }
}
