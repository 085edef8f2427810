import type { Logger } from "pino";
import type { RobotDriver } from "./driver.ts";

export interface Frame {
  readonly jpeg: Uint8Array;
  readonly at: number;
}

export interface CameraOptions {
  /** Time between the starts of two requests to the camera (the firmware refuses < 100 ms). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** How long the poller keeps going after its last viewer left. */
  readonly idleMs: number;
}

interface Listener {
  frame(frame: Frame): void;
  failed?(reason: string): void;
}

/**
 * One poller per camera, shared by every viewer. The ESP-EYE serves one JPEG per request and
 * refuses requests closer than 100 ms, so viewers never talk to it: one loop asks at most once per
 * interval, never two requests in flight, and fans the latest frame out.
 */
export class CameraFeed {
  readonly #listeners = new Set<Listener>();
  #latest: Frame | undefined;
  #lastError: string | undefined;
  #running = false;
  #lastDemand = 0;
  #requests = 0;
  #closed = false;

  constructor(
    private readonly robotId: string,
    private readonly driver: RobotDriver,
    private readonly options: CameraOptions,
    private readonly logger: Logger,
  ) {}

  /** Camera requests made so far (for tests and benchmarks). */
  get requests(): number {
    return this.#requests;
  }

  /** Calls `onFrame` with every new frame until the returned function is called. */
  subscribe(onFrame: (frame: Frame) => void): () => void {
    return this.#listen({ frame: onFrame });
  }

  #listen(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#ensureRunning();
    return () => {
      this.#listeners.delete(listener);
      this.#lastDemand = Date.now();
    };
  }

  /** A frame no older than `maxAgeMs`, waiting for the poller if need be. */
  frame(maxAgeMs = this.options.intervalMs * 2): Promise<Frame> {
    const latest = this.#latest;
    if (latest && Date.now() - latest.at <= maxAgeMs) {
      this.#lastDemand = Date.now();
      return Promise.resolve(latest);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(this.#lastError ?? "camera timed out"));
      }, this.options.timeoutMs + this.options.intervalMs);
      const unsubscribe = this.#listen({
        frame: (frame) => {
          clearTimeout(timer);
          unsubscribe();
          resolve(frame);
        },
        failed: (reason) => {
          clearTimeout(timer);
          unsubscribe();
          reject(new Error(reason));
        },
      });
    });
  }

  /** The most recent frame, however old (for status pages). */
  get latest(): Frame | undefined {
    return this.#latest;
  }

  /** Stops polling for good; a waiting `frame()` times out. */
  close(): void {
    this.#closed = true;
  }

  #ensureRunning(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    void this.#poll().finally(() => {
      this.#running = false;
    });
  }

  async #poll(): Promise<void> {
    while (
      !this.#closed &&
      (this.#listeners.size > 0 || Date.now() - this.#lastDemand < this.options.idleMs)
    ) {
      const started = Date.now();
      this.#requests++;
      try {
        const jpeg = await this.driver.frame();
        this.#latest = { jpeg, at: Date.now() };
        this.#lastError = undefined;
        for (const listener of [...this.#listeners]) listener.frame(this.#latest);
      } catch (error) {
        if (this.#lastError === undefined) {
          this.logger.warn({ robot: this.robotId, err: (error as Error).message }, "camera frame failed");
        }
        this.#lastError = (error as Error).message;
        for (const listener of [...this.#listeners]) listener.failed?.(this.#lastError);
      }
      const wait = this.options.intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
