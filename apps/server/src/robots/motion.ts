import { randomUUID } from "node:crypto";
import type { MotorCommand } from "@robo402/protocol";
import type { Logger } from "pino";
import type { Kv } from "../kv/index.ts";
import { type RobotDriver, RobotUnavailableError } from "./driver.ts";

export interface MotionOptions {
  readonly deadmanMs: number;
  readonly stopAttempts: number;
  readonly stopMaxDelayMs: number;
  /** Told how each stop ended: confirmed by the robot, owed (retries ran out), or an owed one delivered. */
  readonly onStop?: (reason: string, outcome: StopOutcome) => void;
}

export type StopOutcome = "confirmed" | "owed" | "owed_delivered";

export type StopReason = "expired" | "released" | "replaced" | "deadman" | "shutdown";

// How often a stop the retries could not deliver is tried again (the robot's breaker spaces the real asks).
const OWED_STOP_PROBE_MS = 1000;

/**
 * Keeps moving machines under control. Motion commands arm a dead-man timer: a driver that goes
 * silent for `deadmanMs` gets its robot stopped. Stops are retried until the robot confirms.
 *
 * The last motion command's stamp lives in the shared store, so with several server processes the
 * one whose timer fires stops the robot only if no other process has passed a newer command since.
 *
 * A stop that runs out of retries (the robot is unreachable) is owed: it is written to the shared store,
 * where any process can take it over, and sent as soon as the robot answers again.
 */
export class MotionGuard {
  readonly #instance = randomUUID();
  readonly #armed = new Map<string, { timer: NodeJS.Timeout; driver: RobotDriver }>();
  readonly #stopping = new Map<string, Promise<boolean>>();
  readonly #owed = new Map<string, NodeJS.Timeout>();
  readonly #retryingOwed = new Set<string>();
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
    // The robot is moving now: the timer is armed before anything else can fail. Should the shared stamp
    // not be written (the store is away), the dead-man stops the robot without asking it.
    let stamp: string | undefined = `${this.#instance}:${randomUUID()}`;
    this.#disarm(robotId);
    const timer = setTimeout(() => void this.#deadman(robotId, driver, stamp), this.options.deadmanMs);
    timer.unref();
    this.#armed.set(robotId, { timer, driver });
    try {
      await this.kv.set(this.#key(robotId), stamp, this.options.deadmanMs * 4);
    } catch (error) {
      stamp = undefined;
      throw error;
    }
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
    for (const timer of this.#owed.values()) clearInterval(timer);
    this.#owed.clear();
  }

  /** Takes over the stop another process owes this robot, if any (it may have gone away). */
  async adopt(robotId: string, driver: RobotDriver): Promise<void> {
    if (this.#owed.has(robotId) || this.#closed) return;
    if ((await this.kv.get(this.#owedKey(robotId))) !== null) this.#watch(robotId, driver);
  }

  /** The robot answered again: a stop it is owed goes out now rather than at the next probe. */
  recovered(robotId: string, driver: RobotDriver): void {
    if (this.#owed.has(robotId)) void this.#payOwed(robotId, driver);
  }

  /** `stamp`: this motion's, as shared; undefined when it could not be shared (then nobody else can vouch). */
  async #deadman(robotId: string, driver: RobotDriver, stamp: string | undefined): Promise<void> {
    this.#armed.delete(robotId);
    try {
      if (stamp !== undefined && (await this.kv.get(this.#key(robotId))) !== stamp) return;
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
        this.options.onStop?.(reason, "confirmed");
        return true;
      } catch (error) {
        const last = attempt === stopAttempts || this.#closed;
        this.logger[last ? "error" : "warn"](
          { robot: robotId, reason, attempt, of: stopAttempts, err: (error as Error).message },
          last ? "robot did not confirm stop; giving up" : "stop not confirmed; retrying",
        );
        if (last) {
          this.options.onStop?.(reason, "owed");
          await this.#owe(robotId, driver, reason);
          return false;
        }
        // A robot known to be down is asked again when its breaker lets a call through, so that every
        // attempt counted here is one the robot could have answered.
        const retryIn = error instanceof RobotUnavailableError ? (error.retryInMs ?? 0) : 0;
        await sleep(Math.max(Math.min(200 * 2 ** (attempt - 1), stopMaxDelayMs), retryIn));
      }
    }
    return false;
  }

  async #owe(robotId: string, driver: RobotDriver, reason: StopReason): Promise<void> {
    try {
      await this.kv.set(this.#owedKey(robotId), reason);
    } catch (error) {
      this.logger.error({ robot: robotId, err: error }, "owed stop not recorded in the shared store");
    }
    this.logger.warn({ robot: robotId, reason }, "stop owed; it goes out when the robot answers again");
    this.#watch(robotId, driver);
  }

  #watch(robotId: string, driver: RobotDriver): void {
    if (this.#owed.has(robotId) || this.#closed) return;
    const timer = setInterval(() => void this.#payOwed(robotId, driver), OWED_STOP_PROBE_MS);
    timer.unref();
    this.#owed.set(robotId, timer);
  }

  async #payOwed(robotId: string, driver: RobotDriver): Promise<void> {
    if (this.#retryingOwed.has(robotId)) return;
    this.#retryingOwed.add(robotId);
    try {
      const reason = await this.kv.get(this.#owedKey(robotId));
      if (reason !== null) {
        await driver.command("stop");
        await this.kv.del(this.#owedKey(robotId));
        this.logger.info({ robot: robotId, reason }, "owed stop delivered; robot stopped");
        this.options.onStop?.(reason, "owed_delivered");
      }
      clearInterval(this.#owed.get(robotId));
      this.#owed.delete(robotId);
    } catch {
      // Still unreachable (or the shared store is away): the next probe tries again.
    } finally {
      this.#retryingOwed.delete(robotId);
    }
  }

  #disarm(robotId: string): void {
    clearTimeout(this.#armed.get(robotId)?.timer);
    this.#armed.delete(robotId);
  }

  #key(robotId: string): string {
    return `deadman:${robotId}`;
  }

  #owedKey(robotId: string): string {
    return `stop-owed:${robotId}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
