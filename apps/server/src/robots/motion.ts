// Over 300 lines on purpose: one state machine per robot (the armed dead-man, the session fences, the
// stops owed), whose transitions are only safe when read together.
import { randomUUID } from "node:crypto";
import type { MotorCommand, Velocity } from "@robo402/protocol";
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

export type StopReason =
  | "expired"
  | "released"
  | "replaced"
  | "deadman"
  | "shutdown"
  | "suspended"
  | "deleted";

/** Where stops the retries could not deliver are kept (the database: robots/owed-stops.ts). */
export interface OwedStops {
  owe(robotId: string, reason: string): Promise<void>;
  paid(robotId: string): Promise<void>;
  /** Why `robotId` is owed a stop; null when it is not. */
  reason(robotId: string): Promise<string | null>;
  list(): Promise<{ robotId: string; reason: string }[]>;
}

/** A motion command for a session that has ended: nothing was sent. */
export class SessionEndedError extends Error {}

// How often a stop the retries could not deliver is tried again (the robot's breaker spaces the real asks).
const OWED_STOP_PROBE_MS = 1000;
// How often this process looks for stops owed by any process (one may have gone away).
const OWED_STOP_SCAN_MS = 5000;
// A session's end fences its commands this long past its paid time (a token is refused after that anyway).
const FENCE_MARGIN_MS = 60_000;

/**
 * Keeps moving machines under control. Motion commands arm a dead-man timer before they go out: a
 * driver that goes silent (or a command that hangs) for `deadmanMs` gets its robot stopped.
 *
 * The last motion command's stamp, with its deadline, lives in the shared store: with several server
 * processes the one whose timer fires stops the robot only if no other process has passed a newer
 * command since, and every process scans for stamps past their deadline, so a robot whose driving
 * process died is stopped by another.
 *
 * A session's end writes a fence that its later commands cannot pass (the stamp is written only where
 * there is no fence, in one step), and the end's stop waits for this process's commands already past it.
 *
 * A stop that runs out of retries (the robot is unreachable) is owed: it is kept in the database, where
 * any process finds it, and sent as soon as the robot answers again.
 */
export class MotionGuard {
  readonly #instance = randomUUID();
  #seq = 0;
  readonly #armed = new Map<string, { timer: NodeJS.Timeout; driver: RobotDriver }>();
  readonly #sending = new Map<string, Set<Promise<unknown>>>();
  readonly #stopping = new Map<string, Promise<boolean>>();
  // How many stops each robot confirmed (to see one that overtook a command).
  readonly #stopped = new Map<string, number>();
  readonly #owed = new Map<string, NodeJS.Timeout>();
  readonly #retryingOwed = new Set<string>();
  readonly #scans: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(
    private readonly kv: Kv,
    private readonly owedStops: OwedStops,
    private readonly logger: Logger,
    private readonly options: MotionOptions,
  ) {}

  /**
   * Sends a driver's command; throws what the driver throws, and SessionEndedError when `session` has
   * ended (nothing sent). `deadmanMs`: this robot's own dead-man time, when it has one.
   */
  async drive(
    robotId: string,
    driver: RobotDriver,
    command: MotorCommand | Velocity,
    session?: string,
    deadmanMs = this.options.deadmanMs,
  ): Promise<void> {
    if (command === "stop") {
      this.#disarm(robotId);
      await driver.command(command);
      await this.kv.del(this.#key(robotId));
      return;
    }
    const deadline = Date.now() + deadmanMs;
    const stamp = `${this.#instance}/${++this.#seq}/${deadline}`;
    // Armed before anything can fail or hang: should the stamp not be shared (the store is away), the
    // dead-man stops the robot without asking it.
    this.#arm(robotId, driver, deadmanMs, stamp);
    const sending = this.#send(robotId, driver, command, session, stamp, deadmanMs);
    const sends = this.#sending.get(robotId) ?? new Set();
    this.#sending.set(robotId, sends);
    sends.add(sending);
    const stopsBefore = this.#stopped.get(robotId);
    try {
      await sending;
    } finally {
      sends.delete(sending);
      if (sends.size === 0) this.#sending.delete(robotId);
    }
    // A stop that did not wait for this command (the dead-man's, for a command that hung) may have
    // reached the robot first: the robot is stopped again, behind it.
    if (this.#stopped.get(robotId) !== stopsBefore) void this.stop(robotId, driver, "deadman");
  }

  /** Refuses every later command of `session` on every process (see drive). Written before its stop. */
  async fence(session: string, expiresAt: Date): Promise<void> {
    await this.kv.set(
      this.#fenceKey(session),
      "1",
      Math.max(0, expiresAt.getTime() - Date.now()) + FENCE_MARGIN_MS,
    );
  }

  /**
   * Stops a robot, retrying with backoff until it answers 200 or the attempts run out. Unless it is a
   * dead-man's, it goes out after the commands this process is sending to the robot. Concurrent requests
   * for the same robot share one delivery. Resolves to whether the robot confirmed.
   */
  stop(robotId: string, driver: RobotDriver, reason: StopReason): Promise<boolean> {
    this.#disarm(robotId);
    const inFlight = this.#stopping.get(robotId);
    if (inFlight) return inFlight;
    // A dead-man's stop does not wait: any command still on its way is older than the silence, so hung.
    const before = reason === "deadman" ? [] : [...(this.#sending.get(robotId) ?? [])];
    const delivery = Promise.allSettled(before)
      .then(() => this.#deliverStop(robotId, driver, reason))
      .finally(() => this.#stopping.delete(robotId));
    this.#stopping.set(robotId, delivery);
    return delivery;
  }

  /**
   * Starts this process's scans over the robots `robots` lists: stamps past their deadline (their
   * process died or stalled) and stops owed in the database.
   */
  watch(robots: () => { id: string; driver: RobotDriver }[]): void {
    const scan = (every: number, run: () => Promise<void>) => {
      const timer = setInterval(() => void run(), every);
      timer.unref();
      this.#scans.push(timer);
      void run();
    };
    scan(this.options.deadmanMs / 4, () => this.#takeOverdue(robots()));
    scan(OWED_STOP_SCAN_MS, () => this.#adoptOwed(robots()));
  }

  /** A server going away is control lapsing: robots it was driving are stopped before it exits. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#scans) clearInterval(timer);
    for (const [robotId, { driver }] of this.#armed) void this.stop(robotId, driver, "shutdown");
    await Promise.all(this.#stopping.values());
    for (const timer of this.#owed.values()) clearInterval(timer);
    this.#owed.clear();
  }

  /** The robot answered again: a stop it is owed goes out now rather than at the next probe. */
  recovered(robotId: string, driver: RobotDriver): void {
    if (this.#owed.has(robotId)) void this.#payOwed(robotId, driver);
  }

  async #send(
    robotId: string,
    driver: RobotDriver,
    command: MotorCommand | Velocity,
    session: string | undefined,
    stamp: string,
    deadmanMs: number,
  ): Promise<void> {
    const ttl = deadmanMs * 4;
    const shared = session
      ? await this.kv.setUnless(this.#key(robotId), stamp, ttl, this.#fenceKey(session))
      : await this.kv.set(this.#key(robotId), stamp, ttl).then(() => true);
    if (!shared) throw new SessionEndedError("the session has ended");
    // A velocity goes only to a driver that takes one (RobotGateway.velocity checks).
    await (typeof command === "string" ? driver.command(command) : driver.velocity?.(command));
  }

  #arm(robotId: string, driver: RobotDriver, deadmanMs: number, stamp: string): void {
    this.#disarm(robotId);
    const timer = setTimeout(() => void this.#deadman(robotId, driver, stamp), deadmanMs);
    timer.unref();
    this.#armed.set(robotId, { timer, driver });
  }

  async #deadman(robotId: string, driver: RobotDriver, stamp: string): Promise<void> {
    this.#armed.delete(robotId);
    try {
      // Only a newer motion, from any process, stands this one down. No stamp at all means a stop went
      // out, perhaps before this command reached the robot: stopping again is safe.
      const current = await this.kv.get(this.#key(robotId));
      if (current !== null && current !== stamp) return;
    } catch (error) {
      // Without the shared stamp we cannot tell whether another process is driving: stopping is safe.
      this.logger.warn({ robot: robotId, err: error }, "dead-man check could not read the shared stamp");
    }
    this.logger.info({ robot: robotId }, "driver went silent; stopping robot");
    await this.stop(robotId, driver, "deadman");
  }

  /** Stops robots whose stamp is past its deadline by a quarter of the dead-man time: nobody stopped them. */
  async #takeOverdue(robots: { id: string; driver: RobotDriver }[]): Promise<void> {
    let stamps: (string | null)[];
    try {
      stamps = await this.kv.getMany(robots.map(({ id }) => this.#key(id)));
    } catch (err) {
      this.logger.warn({ err }, "could not read the robots' dead-man stamps");
      return;
    }
    const overdueAt = Date.now() - this.options.deadmanMs / 4;
    for (const [i, { id, driver }] of robots.entries()) {
      const stamp = stamps[i];
      if (!stamp || !(Number(stamp.split("/")[2]) < overdueAt) || this.#stopping.has(id)) continue;
      try {
        // One process takes it over.
        if (!(await this.kv.claim(`deadman-taken:${stamp}`, this.options.deadmanMs * 4))) continue;
        this.logger.warn(
          { robot: id, stamp },
          "dead-man past its deadline (its process is gone?); stopping robot",
        );
        void this.stop(id, driver, "deadman");
      } catch (err) {
        this.logger.warn({ robot: id, err }, "could not take over the robot's dead-man");
      }
    }
  }

  async #adoptOwed(robots: { id: string; driver: RobotDriver }[]): Promise<void> {
    if (this.#closed) return;
    try {
      const owed = new Set((await this.owedStops.list()).map((row) => row.robotId));
      for (const { id, driver } of robots) if (owed.has(id)) this.#watchOwed(id, driver);
    } catch (err) {
      this.logger.warn({ err }, "could not look for owed stops");
    }
  }

  async #deliverStop(robotId: string, driver: RobotDriver, reason: StopReason): Promise<boolean> {
    const { stopAttempts, stopMaxDelayMs } = this.options;
    for (let attempt = 1; attempt <= stopAttempts; attempt++) {
      try {
        await driver.command("stop");
        this.#stopped.set(robotId, (this.#stopped.get(robotId) ?? 0) + 1);
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
      await this.owedStops.owe(robotId, reason);
    } catch (error) {
      this.logger.error({ robot: robotId, err: error }, "owed stop not recorded in the database");
    }
    this.logger.warn({ robot: robotId, reason }, "stop owed; it goes out when the robot answers again");
    this.#watchOwed(robotId, driver);
  }

  #watchOwed(robotId: string, driver: RobotDriver): void {
    if (this.#owed.has(robotId) || this.#closed) return;
    const timer = setInterval(() => void this.#payOwed(robotId, driver), OWED_STOP_PROBE_MS);
    timer.unref();
    this.#owed.set(robotId, timer);
  }

  async #payOwed(robotId: string, driver: RobotDriver): Promise<void> {
    if (this.#retryingOwed.has(robotId)) return;
    this.#retryingOwed.add(robotId);
    try {
      // Paid already (by another process) means the robot may have a new driver: not stopped again.
      const reason = await this.owedStops.reason(robotId);
      if (reason !== null) {
        await driver.command("stop");
        await this.owedStops.paid(robotId);
        this.logger.info({ robot: robotId, reason }, "owed stop delivered; robot stopped");
        this.options.onStop?.(reason, "owed_delivered");
      }
      clearInterval(this.#owed.get(robotId));
      this.#owed.delete(robotId);
    } catch {
      // Still unreachable (or the database is away): the next probe tries again.
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

  #fenceKey(session: string): string {
    return `session-ended:${session}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
