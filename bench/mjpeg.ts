import { request } from "undici";

const HEADER_END = Buffer.from("\r\n\r\n");

/**
 * One viewer of a multipart MJPEG stream (an `<img src>`): notes when each JPEG arrives, each checked to
 * be a whole part (its Content-Length of bytes, starting with a JPEG's start-of-image marker).
 */
export class MjpegViewer {
  readonly #arrivals: number[] = [];
  #buffered = Buffer.alloc(0);
  #firstFrame: Promise<void>;
  #sawFirst!: () => void;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.#firstFrame = new Promise((resolve) => {
      this.#sawFirst = resolve;
    });
    this.#done = this.#read(url, headers);
    // Seen through `firstFrame` or `close`; kept from being reported as unhandled meanwhile.
    this.#done.catch(() => {});
  }

  /** When each whole frame arrived (`performance.now()`), oldest first. */
  get arrivals(): readonly number[] {
    return this.#arrivals;
  }

  /** Resolves at the first frame; rejects if the stream fails first. */
  firstFrame(): Promise<void> {
    return Promise.race([this.#firstFrame, this.#done.then(() => raise("the stream ended before a frame"))]);
  }

  /** Leaves the stream; rejects with what went wrong, if the stream failed before. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #read(url: string, headers: Record<string, string>): Promise<void> {
    const response = await request(url, { headers, signal: this.#abort.signal });
    const type = String(response.headers["content-type"] ?? "");
    if (response.statusCode !== 200 || !type.startsWith("multipart/x-mixed-replace")) {
      throw new Error(`${url} answered ${response.statusCode} ${type}: ${await response.body.text()}`);
    }
    try {
      for await (const chunk of response.body) this.#take(chunk as Buffer);
    } catch (error) {
      if (!this.#abort.signal.aborted) throw error;
    }
  }

  #take(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    for (;;) {
      const headerEnd = this.#buffered.indexOf(HEADER_END);
      if (headerEnd < 0) return;
      const header = this.#buffered.subarray(0, headerEnd).toString("latin1");
      const length = Number(/content-length:\s*(\d+)/i.exec(header)?.[1]);
      if (!Number.isInteger(length)) throw new Error(`a stream part without Content-Length: ${header}`);
      const start = headerEnd + HEADER_END.length;
      // The part, then the CRLF that ends it.
      if (this.#buffered.length < start + length + 2) return;
      if (this.#buffered[start] !== 0xff || this.#buffered[start + 1] !== 0xd8) {
        throw new Error("a stream part that is not a JPEG");
      }
      this.#buffered = this.#buffered.subarray(start + length + 2);
      this.#arrivals.push(performance.now());
      this.#sawFirst();
    }
  }
}

function raise(message: string): never {
  throw new Error(message);
}
