import {
  decodeFrame,
  LINK_HEARTBEAT_MS,
  LINK_SILENCE_MS,
  type LinkInfo,
  type MotorCommand,
  type PlatformMessage,
  RobotMessage,
} from "@robo402/protocol";

/** What the platform asks of a linked robot. */
export type LinkRequest = { type: "command"; command: MotorCommand } | { type: "info" } | { type: "frame" };

/** The robot's answer to one request. */
export type LinkAnswer =
  | { ok: true; info?: LinkInfo; jpeg?: Uint8Array }
  | { ok: false; error: string; busy?: boolean };

/** The socket as this module needs it (a `ws` WebSocket). */
export interface LinkSocket {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

interface Pending {
  readonly resolve: (answer: LinkAnswer) => void;
  readonly timer: NodeJS.Timeout;
}

// Request ids are the 4-byte prefix of a binary frame.
const MAX_ID = 0xffff_ffff;

/**
 * One robot's link on this instance: requests framed with ids and matched to their acks (or binary
 * frames), each with a timeout; heartbeats; and silence detection (no message for LINK_SILENCE_MS closes it).
 */
export class LinkConnection {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  readonly #heartbeat: NodeJS.Timeout;
  #silence: NodeJS.Timeout | undefined;
  /** What the robot last said about its boards. */
  health: { motor: boolean; camera: boolean } | undefined;

  constructor(
    readonly robotId: string,
    /** Names this link across instances (the holder key's value). */
    readonly id: string,
    private readonly socket: LinkSocket,
    deadmanMs: number,
    private readonly onHeartbeat: () => void,
  ) {
    this.#send({ type: "hello", robot: robotId, deadmanMs });
    this.#heard();
    this.#heartbeat = setInterval(() => {
      this.#send({ type: "ping", at: Date.now() });
      this.onHeartbeat();
    }, LINK_HEARTBEAT_MS);
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(request: LinkRequest, timeoutMs: number): Promise<LinkAnswer> {
    if (this.#closed) return Promise.resolve({ ok: false, error: "link closed" });
    const id = this.#nextId;
    this.#nextId = id === MAX_ID ? 1 : id + 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ ok: false, error: `no answer over the link within ${timeoutMs} ms` });
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.#send(
        request.type === "command"
          ? { type: "command", id, command: request.command }
          : { type: request.type, id },
      );
    });
  }

  /** A message from the robot: text is JSON, binary is a camera frame. */
  receive(data: string | ArrayBuffer): void {
    this.#heard();
    if (typeof data !== "string") {
      const frame = decodeFrame(new Uint8Array(data));
      if (frame) this.#answer(frame.id, { ok: true, jpeg: frame.jpeg });
      return;
    }
    let message: RobotMessage;
    try {
      message = RobotMessage.parse(JSON.parse(data));
    } catch {
      return;
    }
    switch (message.type) {
      case "ack":
        this.#answer(
          message.id,
          message.ok
            ? { ok: true, info: message.info }
            : { ok: false, error: message.error ?? "the robot refused", busy: message.busy },
        );
        return;
      case "health":
        this.health = { motor: message.motor, camera: message.camera };
        return;
      case "ping":
        this.#send({ type: "pong", at: message.at });
        return;
      case "pong":
        return;
    }
  }

  /** Closes the socket (if still open) and fails what is waiting. */
  close(code: number, reason: string): void {
    if (!this.#closed) this.socket.close(code, reason);
    this.ended();
  }

  /** The socket closed: nothing more will be answered. */
  ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#silence);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, error: "the robot's link closed before it answered" });
      this.#pending.delete(id);
    }
  }

  #answer(id: number, answer: LinkAnswer): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }

  #heard(): void {
    clearTimeout(this.#silence);
    // A robot silent this long is gone, whether or not TCP has noticed.
    this.#silence = setTimeout(() => this.socket.terminate(), LINK_SILENCE_MS);
  }

  #send(message: PlatformMessage): void {
    if (!this.#closed) this.socket.send(JSON.stringify(message));
  }
}
