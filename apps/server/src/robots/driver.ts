import type { MotorCommand, Velocity } from "@robo402/protocol";

export interface RobotInfo {
  /** What the board calls itself (`hostname` from the firmware, `mdns_name` in the plan). */
  readonly name: string | null;
  readonly ip: string | null;
}

/** One kind of robot. A new kind (a rover with a velocity API, a robot that dials in) is a new driver. */
export interface RobotDriver {
  info(): Promise<RobotInfo>;
  command(command: MotorCommand): Promise<void>;
  /** One JPEG from the camera. */
  frame(): Promise<Uint8Array>;
  /** Where the camera is, as far as the platform knows without asking it. */
  cameraAddress(): Promise<RobotInfo>;
  /**
   * A velocity robot's command, fractions of its limits (robots/drivers/velocity.ts). A robot without it
   * takes motor commands; one with it takes no motor command but `stop`.
   */
  velocity?(velocity: Velocity): Promise<void>;
  /** The robot's own dead-man time (its settings), when it has one. */
  readonly deadmanMs?: number;
}

/**
 * The robot did not answer as it should: unreachable, too slow, or an error status. `retryInMs` says when
 * the platform will next ask it (set once the board is known to be failing).
 */
export class RobotUnavailableError extends Error {
  constructor(
    readonly board: "motor" | "camera",
    readonly reason: string,
    readonly retryInMs?: number,
  ) {
    const retry = retryInMs === undefined ? "" : `; retrying in ${Math.ceil(retryInMs / 1000)} s`;
    super(`${board} ${reason}${retry}`);
    this.name = "RobotUnavailableError";
  }
}

/**
 * The board answered, but not now: the camera's "503 within 100 ms of the last frame" or "Camera busy".
 * Not an outage: the next poll gets a frame, so nothing opens a breaker or fails a waiting viewer over it.
 */
export class RobotBusyError extends RobotUnavailableError {
  constructor(board: "motor" | "camera", reason: string) {
    super(board, reason);
    this.name = "RobotBusyError";
  }
}

/**
 * The board answered 200 with something its firmware never sends (a camera answer that is not a JPEG):
 * none of it is passed on. Not an outage, so no breaker opens over it; the viewer gets a 502.
 */
export class RobotBadAnswerError extends Error {
  constructor(
    readonly board: "motor" | "camera",
    readonly reason: string,
  ) {
    super(`${board} ${reason}`);
    this.name = "RobotBadAnswerError";
  }
}
