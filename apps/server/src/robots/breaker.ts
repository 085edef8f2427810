import { RobotBusyError, type RobotDriver, RobotUnavailableError } from "./driver.ts";

export interface BreakerOptions {
  /** How long a board stays closed to callers after it first fails; doubles with each failed probe. */
  readonly openMs: number;
  readonly maxOpenMs: number;
  /** How long a call waits for the board's one slot before it is refused. */
  readonly waitMs: number;
}

export interface BreakerHooks {
  /** The board stopped answering (the first failure after it last answered). */
  opened?(reason: string): void;
  /** The board answered again after failing. */
  closed?(): void;
}

/**
 * Guards one board of one robot. The firmware serves one client at a time, so calls take turns (one in
 * flight; the rest wait up to `waitMs`, then are refused). A board that fails is not asked again until
 * its retry time, and then by one call (the probe) while the others are refused at once: a dead robot
 * costs its callers nothing but a 503, instead of each waiting out the full timeout.
 */
export class BoardBreaker {
  #busy = false;
  readonly #waiting: Array<() => void> = [];
  #failures = 0;
  #retryAt = 0;
  #reason = "";

  constructor(
    private readonly board: "motor" | "camera",
    private readonly options: BreakerOptions,
    private readonly hooks: BreakerHooks = {},
  ) {}

  /** True while the board is failing (open, or being probed). */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** Milliseconds until the next call may reach the board (0 when it may now). */
  retryInMs(now = Date.now()): number {
    return this.#failures > 0 ? Math.max(0, this.#retryAt - now) : 0;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    this.#refuseWhileOpen();
    await this.#turn();
    try {
      // It may have failed for the call ahead of this one.
      this.#refuseWhileOpen();
      const result = await call();
      this.#succeeded();
      return result;
    } catch (error) {
      if (error instanceof RobotBusyError) throw error;
      if (error instanceof RobotUnavailableError) throw this.#failed(error);
      throw error;
    } finally {
      this.#next();
    }
  }

  #refuseWhileOpen(): void {
    const wait = this.retryInMs();
    if (wait > 0) throw new RobotUnavailableError(this.board, `offline: ${this.#reason}`, wait);
  }

  #failed(error: RobotUnavailableError): RobotUnavailableError {
    const first = this.#failures === 0;
    this.#failures++;
    this.#reason = error.reason;
    const openMs = Math.min(this.options.openMs * 2 ** (this.#failures - 1), this.options.maxOpenMs);
    this.#retryAt = Date.now() + openMs;
    if (first) this.hooks.opened?.(error.reason);
    return new RobotUnavailableError(this.board, `offline: ${error.reason}`, openMs);
  }

  #succeeded(): void {
    if (this.#failures === 0) return;
    this.#failures = 0;
    this.#retryAt = 0;
    this.hooks.closed?.();
  }

  #turn(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(go), 1);
        reject(new RobotUnavailableError(this.board, "busy: other requests are still waiting for it"));
      }, this.options.waitMs);
      this.#waiting.push(go);
    });
  }

  #next(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#busy = false;
  }
}

/** `driver` with each board's calls going through its breaker. */
export function guardDriver(driver: RobotDriver, motor: BoardBreaker, camera: BoardBreaker): RobotDriver {
  const velocity = driver.velocity?.bind(driver);
  return {
    info: () => motor.run(() => driver.info()),
    command: (command) => motor.run(() => driver.command(command)),
    frame: () => camera.run(() => driver.frame()),
    cameraAddress: () => driver.cameraAddress(),
    deadmanMs: driver.deadmanMs,
    ...(velocity && { velocity: (speeds) => motor.run(() => velocity(speeds)) }),
  };
}

/** How long a failing board is left alone: half a second at first, doubling up to five. */
export const BREAKER_TIMING = { openMs: 500, maxOpenMs: 5000 } as const;
