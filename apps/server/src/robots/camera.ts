import type { Logger } from "pino";
import type { Kv, PubSub } from "../kv/index.ts";
import { RobotBadAnswerError, RobotBusyError, type RobotDriver } from "./driver.ts";

export interface Frame {
  readonly jpeg: Uint8Array;
  readonly at: number;
}

export interface CameraOptions {
  /**
   * Time between the starts of two requests to the camera. The firmware refuses a request within 100 ms
   * of its last frame; a few ms more absorb the network's jitter and still give ~9.5 frames a second.
   */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** How long the poller keeps going after its last viewer left. */
  readonly idleMs: number;
}

/**
 * What the server processes watching one camera share: a lease (whoever holds it polls the camera) and a
 * channel where the holder publishes what it got to the others.
 */
export interface CameraShare {
  readonly kv: Kv;
  readonly pubsub: PubSub;
  /** This process, as lease owner and message sender. */
  readonly instance: string;
}

// A camera that answered "busy" is asked again this soon, doubling while it stays busy (up to the interval):
// its 100 ms ran from a frame it served a little later than this poller counted.
const BUSY_RETRY_MS = 10;

// On the channel: one message per poll, the JPEG in base64 (channels carry strings).
// `bad` marks a camera that answered with something not a JPEG (a 502 for viewers, not an outage).
type Shared =
  | { from: string; at: number; jpeg: string }
  | { from: string; at: number; error: string; bad?: true };

interface Listener {
  frame(frame: Frame): void;
  failed?(error: Error): void;
}

/**
 * One poller per camera, shared by every viewer. The ESP-EYE serves one JPEG per request and
 * refuses requests closer than 100 ms, so viewers never talk to it: one loop asks at most once per
 * interval, never two requests in flight, and fans the latest frame out.
 *
 * Across server processes the same holds through a lease in the shared store: of the processes that
 * have viewers, the one holding the lease polls and publishes each frame; the others relay what it
 * publishes and keep trying the lease, so when the holder goes (its lease lapses or it gives it up)
 * one of them takes over.
 */
export class CameraFeed {
  readonly #listeners = new Set<Listener>();
  #latest: Frame | undefined;
  #lastError: Error | undefined;
  #running: Promise<void> | undefined;
  readonly #wake = new AbortController();
  #lastDemand = 0;
  #requests = 0;
  #closed = false;
  #holding = false;

  constructor(
    private readonly robotId: string,
    private readonly driver: RobotDriver,
    private readonly options: CameraOptions,
    private readonly share: CameraShare,
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
        reject(this.#lastError ?? new Error("camera timed out"));
      }, this.options.timeoutMs + this.options.intervalMs);
      const unsubscribe = this.#listen({
        frame: (frame) => {
          clearTimeout(timer);
          unsubscribe();
          resolve(frame);
        },
        failed: (error) => {
          clearTimeout(timer);
          unsubscribe();
          reject(error);
        },
      });
    });
  }

  /** Why the last poll failed; undefined once a frame arrives again. */
  get lastError(): string | undefined {
    return this.#lastError?.message;
  }

  /** The most recent frame, however old (for status pages). */
  get latest(): Frame | undefined {
    return this.#latest;
  }

  /** Stops polling for good (giving the lease up for another process); a waiting `frame()` times out. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake.abort();
    await this.#running;
  }

  #ensureRunning(): void {
    if (this.#running || this.#closed) return;
    this.#running = this.#poll().finally(() => {
      this.#running = undefined;
    });
  }

  async #poll(): Promise<void> {
    const unsubscribe = await this.share.pubsub
      .subscribe(this.#channel, (message) => this.#relay(message))
      .catch((err) => {
        this.logger.warn({ robot: this.robotId, err }, "camera channel unavailable; polling alone");
        return async () => {};
      });
    try {
      let busyRounds = 0;
      while (
        !this.#closed &&
        (this.#listeners.size > 0 || Date.now() - this.#lastDemand < this.options.idleMs)
      ) {
        // Scheduled from the start of the last request, which is what the firmware's rule counts from.
        let due = performance.now() + this.options.intervalMs;
        if (await this.#lease()) {
          const { startedAt, busy } = await this.#pollOnce();
          busyRounds = busy ? busyRounds + 1 : 0;
          due = busy
            ? performance.now() + Math.min(BUSY_RETRY_MS * 2 ** (busyRounds - 1), this.options.intervalMs)
            : startedAt + this.options.intervalMs;
        }
        await this.#sleep(due - performance.now());
      }
    } finally {
      await unsubscribe().catch(() => {});
      if (this.#holding) await this.share.kv.unlease(this.#leaseKey, this.share.instance).catch(() => {});
      this.#holding = false;
    }
  }

  /** Resolves after `ms`, or at once when the feed closes. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#wake.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake.signal.addEventListener("abort", done);
    });
  }

  /** Asks the camera once; when the request started, and whether the camera said it was busy. */
  async #pollOnce(): Promise<{ startedAt: number; busy: boolean }> {
    this.#requests++;
    const startedAt = performance.now();
    let shared: Shared;
    try {
      const jpeg = await this.driver.frame();
      this.#deliver({ jpeg, at: Date.now() });
      shared = { from: this.share.instance, at: Date.now(), jpeg: Buffer.from(jpeg).toString("base64") };
    } catch (error) {
      // A busy camera is asked again shortly; viewers keep waiting for that frame.
      if (error instanceof RobotBusyError) return { startedAt, busy: true };
      this.#fail(error as Error);
      shared = {
        from: this.share.instance,
        at: Date.now(),
        error: (error as Error).message,
        ...(error instanceof RobotBadAnswerError && { bad: true as const }),
      };
    }
    await this.share.pubsub.publish(this.#channel, JSON.stringify(shared)).catch(() => {});
    return { startedAt, busy: false };
  }

  /** Whether this process polls now. Without the shared store it does: its own viewers come first. */
  async #lease(): Promise<boolean> {
    // Long enough to outlast one poll that runs into the camera's timeout, or the holder would lose it
    // mid-request and a second poller would start.
    const ttlMs = this.options.intervalMs * 2 + this.options.timeoutMs;
    const holding = await this.share.kv.lease(this.#leaseKey, this.share.instance, ttlMs).catch((err) => {
      if (!this.#holding) this.logger.warn({ robot: this.robotId, err }, "camera lease unavailable; polling");
      return true;
    });
    if (holding !== this.#holding) {
      this.logger.debug(
        { robot: this.robotId, holding },
        holding ? "camera lease taken" : "camera lease lost",
      );
    }
    this.#holding = holding;
    return holding;
  }

  #relay(message: string): void {
    let shared: Shared;
    try {
      shared = JSON.parse(message) as Shared;
    } catch {
      return;
    }
    if (shared.from === this.share.instance) return;
    if ("jpeg" in shared) this.#deliver({ jpeg: Buffer.from(shared.jpeg, "base64"), at: shared.at });
    else this.#fail(shared.bad ? new RobotBadAnswerError("camera", shared.error) : new Error(shared.error));
  }

  #deliver(frame: Frame): void {
    this.#latest = frame;
    this.#lastError = undefined;
    for (const listener of [...this.#listeners]) listener.frame(frame);
  }

  #fail(error: Error): void {
    if (this.#lastError === undefined)
      this.logger.warn({ robot: this.robotId, err: error.message }, "camera frame failed");
    this.#lastError = error;
    for (const listener of [...this.#listeners]) listener.failed?.(error);
  }

  get #channel(): string {
    return `camera:${this.robotId}`;
  }

  get #leaseKey(): string {
    return `camera-lease:${this.robotId}`;
  }
}
