import type { LinkInfo, MotorCommand } from "@robo402/protocol";
import { z } from "zod";
import { type BoardAnswer, callBoard } from "./board-http.ts";

// A QVGA JPEG from the ESP-EYE is tens of kilobytes; the link carries at most this much per frame.
export const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_INFO_BYTES = 16 * 1024;
// The ESP-EYE answers 503 to a request that reaches it within 100 ms of the last frame it served; a few ms
// more absorb the LAN's jitter, as the platform's own camera poller does.
const CAMERA_SPACING_MS = 105;
// A camera that still said busy (its 100 ms ran from a later moment than ours: the LAN's jitter) is asked
// again this soon, doubling, a few times, as the platform's own poller does: the viewer gets the frame late
// rather than not at all.
const BUSY_RETRY_MS = 10;
const BUSY_RETRIES = 3;

// The firmware sends `hostname`; the first plan calls the same field `mdns_name`.
const InfoBody = z.object({
  hostname: z.string().optional(),
  mdns_name: z.string().optional(),
  ip: z.string().optional(),
});

/** A board's answer that is not what the firmware sends: `busy` is the camera's 503, not an outage. */
export class BoardError extends Error {
  constructor(
    message: string,
    readonly busy = false,
  ) {
    super(message);
    this.name = "BoardError";
  }
}

/**
 * The Tumbller's two boards on the LAN, spoken to as the firmware wants: one request at a time per board,
 * `Connection: close`, and no camera request within 100 ms of the last.
 */
export class Tumbller {
  #motorTurn: Promise<unknown> = Promise.resolve();
  #cameraTurn: Promise<unknown> = Promise.resolve();
  /** When the request of the last frame the camera served started (performance.now()). */
  #lastFrameAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly motorUrl: string,
    readonly cameraUrl: string,
    private readonly timeoutMs = 3000,
  ) {}

  command(command: MotorCommand): Promise<void> {
    return this.#motor(async () => {
      await this.#get(this.motorUrl, `/motor/${command}`, MAX_INFO_BYTES);
    });
  }

  info(): Promise<LinkInfo> {
    return this.#motor(async () => {
      const body = await this.#get(this.motorUrl, "/info", MAX_INFO_BYTES);
      const parsed = InfoBody.safeParse(safeJson(body.toString("utf8")));
      if (!parsed.success) throw new BoardError("motor board sent an /info that is not the firmware's JSON");
      return { name: parsed.data.hostname ?? parsed.data.mdns_name ?? null, ip: parsed.data.ip ?? null };
    });
  }

  frame(): Promise<Buffer> {
    const run = this.#cameraTurn.then(async () => {
      for (let refused = 0; ; refused++) {
        const wait = refused
          ? BUSY_RETRY_MS * 2 ** (refused - 1)
          : this.#lastFrameAt + CAMERA_SPACING_MS - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const startedAt = performance.now();
        try {
          const jpeg = await this.#get(this.cameraUrl, "/getImage", MAX_FRAME_BYTES, true);
          // Only a frame served moves the camera's clock: a refused request is not one, and waiting a
          // full spacing after it would cost the viewers a frame.
          this.#lastFrameAt = startedAt;
          return jpeg;
        } catch (error) {
          if (!(error instanceof BoardError && error.busy) || refused === BUSY_RETRIES) throw error;
        }
      }
    });
    this.#cameraTurn = run.catch(() => {});
    return run;
  }

  #motor<T>(call: () => Promise<T>): Promise<T> {
    const run = this.#motorTurn.then(call);
    this.#motorTurn = run.catch(() => {});
    return run;
  }

  async #get(base: string, path: string, limit: number, camera = false): Promise<Buffer> {
    const board = camera ? "camera" : "motor";
    let answer: BoardAnswer;
    try {
      answer = await callBoard(new URL(`${base}${path}`), { timeoutMs: this.timeoutMs, maxBytes: limit });
    } catch (error) {
      throw new BoardError(`${board} board unreachable at ${base} (${(error as Error).message})`);
    }
    if (camera && answer.status === 503)
      throw new BoardError("camera busy (503: asked within 100 ms of another frame)", true);
    if (answer.status !== 200) throw new BoardError(`${board} board answered ${answer.status}`);
    return answer.body;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
