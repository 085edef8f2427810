import { randomUUID } from "node:crypto";
import type { MotorCommand } from "@robo402/protocol";
import type { Logger } from "pino";
import type { Kv } from "../kv/index.ts";
import type { RobotDriver } from "./driver.ts";

export interface MotionOptions {
  readonly deadmanMs: number;
  readonly stopAttempts: number;
  readonly stopMaxDelayMs: number;
}

export type StopReason = "expired" | "released" | "replaced" | "deadman" | "shutdown";

/**
 * Keeps moving machines under control. Motion commands arm a dead-man timer: a driver that goes
 * silent for `deadmanMs` gets its robot stopped. Stops are retried until the robot confirms.
 *
 * The last motion command's stamp lives in the shared store, so with several server processes the
 * one whose timer fires stops the robot only if no other process has passed a newer command since.
 */
export class MotionGuard {
  readonly #instance = randomUUID();
  readonly #armed = new Map<string, { timer: NodeJS.Timeout; driver: RobotDriver }>();
  readonly #stopping = new Map<string, Promise<boolean>>();
  #closed = false;

  constructor(
    private readonly kv: Kv,
    private readonly logger: Logger,
    private readonly options: MotionOptions,
  ) {}

  /** Sends a driver's command; throws what the driver throws. */
  async drive(robotId: string, driver: RobotDriver, command: MotorCommand): Promise<void> {
    await driver.command(command);
    if (command === "stop") {
      this.#disarm(robotId);
      await this.kv.del(this.#key(robotId));
      return;
    }
    const stamp = `${this.#instance}:${randomUUID()}`;
    await this.kv.set(this.#key(robotId), stamp, this.options.deadmanMs * 4);
    this.#disarm(robotId);
    const timer = setTimeout(() => void this.#deadman(robotId, driver, stamp), this.options.deadmanMs);
    timer.unref();
    this.#armed.set(robotId, { timer, driver });
  }

  /**
   * Stops a robot, retrying with backoff until it answers 200 or the attempts run out. Concurrent
   * requests for the same robot share one delivery. Resolves to whether the robot confirmed.
   */
  stop(robotId: string, driver: RobotDriver, reason: StopReason): Promise<boolean> {
    this.#disarm(robotId);
    const inFlight = this.#stopping.get(robotId);
    if (inFlight) return inFlight;
    const delivery = this.#deliverStop(robotId, driver, reason).finally(() => this.#stopping.delete(robotId));
    this.#stopping.set(robotId, delivery);
    return delivery;
  }

  /** A server going away is control lapsing: robots it was driving are stopped before it exits. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [robotId, { driver }] of this.#armed) void this.stop(robotId, driver, "shutdown");
    await Promise.all(this.#stopping.values());
  }

  async #deadman(robotId: string, driver: RobotDriver, stamp: string): Promise<void> {
    this.#armed.delete(robotId);
    try {
      if ((await this.kv.get(this.#key(robotId))) !== stamp) return;
    } catch (error) {
      // Without the shared stamp we cannot tell whether another process is driving: stopping is safe.
      this.logger.warn({ robot: robotId, err: error }, "dead-man check could not read the shared stamp");
    }
    this.logger.info(
      { robot: robotId, deadmanMs: this.options.deadmanMs },
      "driver went silent; stopping robot",
    );
    await this.stop(robotId, driver, "deadman");
  }

  async #deliverStop(robotId: string, driver: RobotDriver, reason: StopReason): Promise<boolean> {
    const { stopAttempts, stopMaxDelayMs } = this.options;
    for (let attempt = 1; attempt <= stopAttempts; attempt++) {
      try {
        await driver.command("stop");
        await this.kv.del(this.#key(robotId)).catch(() => {});
        this.logger.info({ robot: robotId, reason, attempt }, "robot stopped");
        return true;
      } catch (error) {
        const last = attempt === stopAttempts || this.#closed;
        this.logger[last ? "error" : "warn"](
          { robot: robotId, reason, attempt, of: stopAttempts, err: (error as Error).message },
          last ? "robot did not confirm stop; giving up" : "stop not confirmed; retrying",
        );
        if (last) return false;
        await sleep(Math.min(200 * 2 ** (attempt - 1), stopMaxDelayMs));
      }
    }
    return false;
  }

  #disarm(robotId: string): void {
    clearTimeout(this.#armed.get(robotId)?.timer);
    this.#armed.delete(robotId);
  }

  #key(robotId: string): string {
    return `deadman:${robotId}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
