import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { LINK_SILENCE_MS, LinkClose } from "@robo402/protocol";
import type { Logger } from "pino";
import type { Kv, PubSub } from "../../kv/index.ts";
import { type LinkAnswer, LinkConnection, type LinkRequest, type LinkSocket } from "./connection.ts";

export interface LinkEvents {
  /** A robot's link came up on this instance. */
  up: [robotId: string];
  /** It went down (closed, silent, replaced or revoked). */
  down: [robotId: string];
}

// On a robot's channel, heard by the instance holding its link.
type ToHolder =
  | { kind: "request"; id: string; reply: string; request: LinkRequest; timeoutMs: number }
  /** A newer link `by` took the robot: an older one elsewhere closes. */
  | { kind: "takeover"; by: string }
  /** The robot's token was rotated: its link closes. */
  | { kind: "revoke" };
// On an instance's reply channel; a frame's JPEG travels in base64 (channels carry strings).
type Reply = { id: string; answer: LinkAnswer & { jpeg64?: string } };

// Held while its link is up; renewed with every heartbeat, so a holder that died frees it soon.
const HOLDER_TTL_MS = LINK_SILENCE_MS * 2;
// What the hop through the shared channel may add to a request's own timeout.
const RELAY_MARGIN_MS = 500;

/**
 * The robot links of the cluster. A robot's link lives on one instance (the last one it dialed); a request
 * made on that instance goes straight over its socket, one made anywhere else is published on the robot's
 * channel, and the holder answers on the asker's reply channel. Who holds each robot is a key in the Kv.
 */
export class LinkHub extends EventEmitter<LinkEvents> {
  readonly #links = new Map<
    string,
    { connection: LinkConnection; unsubscribe: Promise<() => Promise<void>> }
  >();
  readonly #waiting = new Map<string, { resolve: (answer: LinkAnswer) => void; timer: NodeJS.Timeout }>();
  #unsubscribeReplies: (() => Promise<void>) | undefined;

  constructor(
    private readonly kv: Kv,
    private readonly pubsub: PubSub,
    private readonly instance: string,
    private readonly deadmanMs: number,
    private readonly logger: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.#unsubscribeReplies = await this.pubsub.subscribe(this.#replyChannel, (message) => {
      const reply = parse<Reply>(message);
      if (!reply) return;
      const { id, answer } = reply;
      const waiting = this.#waiting.get(id);
      if (!waiting) return;
      this.#waiting.delete(id);
      clearTimeout(waiting.timer);
      const { jpeg64, ...rest } = answer;
      waiting.resolve(
        jpeg64 === undefined ? (rest as LinkAnswer) : { ok: true, jpeg: Buffer.from(jpeg64, "base64") },
      );
    });
  }

  /** Takes a robot's new link: an older one, here or on another instance, is closed as replaced. */
  async attach(robotId: string, socket: LinkSocket): Promise<LinkConnection> {
    const linkId = `${this.instance}:${randomUUID()}`;
    const connection = new LinkConnection(robotId, linkId, socket, this.deadmanMs, () =>
      this.#renew(connection),
    );
    const previous = this.#links.get(robotId);
    if (previous)
      this.#detach(previous.connection, LinkClose.replaced, "a newer link for this robot connected");
    const unsubscribe = this.pubsub.subscribe(this.#robotChannel(robotId), (message) => {
      const heard = parse<ToHolder>(message);
      if (heard) this.#heard(connection, heard);
    });
    this.#links.set(robotId, { connection, unsubscribe });
    try {
      await unsubscribe;
      await this.kv.set(this.#holderKey(robotId), linkId, HOLDER_TTL_MS);
      await this.pubsub.publish(
        this.#robotChannel(robotId),
        JSON.stringify({ kind: "takeover", by: linkId }),
      );
    } catch (error) {
      // Without the shared store the other instances could not reach it: the robot dials again.
      this.#detach(connection, LinkClose.restart, "the platform's shared store is unavailable");
      throw error;
    }
    this.logger.info({ robot: robotId, link: linkId }, "robot link up");
    this.emit("up", robotId);
    return connection;
  }

  /** The socket of `connection` closed (or must close with `code`). */
  detach(connection: LinkConnection, code?: number, reason = ""): void {
    this.#detach(connection, code, reason);
  }

  /** Closes the robot's link if this instance holds it: its listing changed (LinkClose.listingChanged). */
  closeHere(robotId: string, reason: string): void {
    const held = this.#links.get(robotId);
    if (held) this.#detach(held.connection, LinkClose.listingChanged, reason);
  }

  /** Whether the robot's link is up on this instance. */
  linkedHere(robotId: string): boolean {
    return this.#links.has(robotId);
  }

  /** Of `robotIds`, those whose link is up now on any instance of the cluster. */
  async linkedAmong(robotIds: readonly string[]): Promise<Set<string>> {
    if (robotIds.length === 0) return new Set();
    const held = await this.kv.getMany(robotIds.map((id) => this.#holderKey(id)));
    return new Set(robotIds.filter((_, i) => held[i] !== null));
  }

  /** Asks the robot over its link, wherever in the cluster that is held. */
  async request(robotId: string, request: LinkRequest, timeoutMs: number): Promise<LinkAnswer> {
    const local = this.#links.get(robotId);
    if (local) return local.connection.request(request, timeoutMs);
    const holder = await this.kv.get(this.#holderKey(robotId));
    if (holder === null || holder.startsWith(`${this.instance}:`))
      return { ok: false, error: "not linked: the robot's link to the platform is down" };
    const id = randomUUID();
    const answer = new Promise<LinkAnswer>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({ ok: false, error: "the instance holding the robot's link did not answer" });
      }, timeoutMs + RELAY_MARGIN_MS);
      this.#waiting.set(id, { resolve, timer });
    });
    const message: ToHolder = { kind: "request", id, reply: this.instance, request, timeoutMs };
    await this.pubsub.publish(this.#robotChannel(robotId), JSON.stringify(message));
    return answer;
  }

  /** The robot's token changed: whichever instance holds its link closes it. */
  async revoke(robotId: string): Promise<void> {
    await this.pubsub.publish(this.#robotChannel(robotId), JSON.stringify({ kind: "revoke" }));
  }

  async close(): Promise<void> {
    for (const { connection } of [...this.#links.values()])
      this.#detach(connection, LinkClose.restart, "the platform is restarting");
    await this.#unsubscribeReplies?.();
  }

  #heard(connection: LinkConnection, message: ToHolder): void {
    if (connection.closed) return;
    if (message.kind === "takeover") {
      if (message.by !== connection.id)
        this.#detach(connection, LinkClose.replaced, "a newer link for this robot connected");
      return;
    }
    if (message.kind === "revoke") {
      this.logger.warn({ robot: connection.robotId }, "device token rotated; closing the robot's link");
      this.#detach(connection, LinkClose.unauthorized, "device token rotated");
      return;
    }
    void connection
      .request(message.request, message.timeoutMs)
      .then((answer) => {
        const { jpeg, ...rest } = answer as LinkAnswer & { jpeg?: Uint8Array };
        const reply: Reply = {
          id: message.id,
          answer: jpeg ? { ...rest, jpeg64: Buffer.from(jpeg).toString("base64") } : rest,
        };
        return this.pubsub.publish(replyChannel(message.reply), JSON.stringify(reply));
      })
      .catch((err) => this.logger.warn({ robot: connection.robotId, err }, "robot link answer not relayed"));
  }

  #detach(connection: LinkConnection, code: number | undefined, reason: string): void {
    const current = this.#links.get(connection.robotId);
    if (code === undefined) connection.ended();
    else connection.close(code, reason);
    if (current?.connection !== connection) return;
    this.#links.delete(connection.robotId);
    void current.unsubscribe.then((stop) => stop()).catch(() => {});
    void this.kv.unlease(this.#holderKey(connection.robotId), connection.id).catch(() => {});
    this.logger.info({ robot: connection.robotId, link: connection.id, code, reason }, "robot link down");
    this.emit("down", connection.robotId);
  }

  #renew(connection: LinkConnection): void {
    void this.kv
      .lease(this.#holderKey(connection.robotId), connection.id, HOLDER_TTL_MS)
      .then((holding) => {
        if (!holding) this.#detach(connection, LinkClose.replaced, "a newer link for this robot connected");
      })
      .catch((err) => this.logger.warn({ robot: connection.robotId, err }, "robot link holder not renewed"));
  }

  #holderKey(robotId: string): string {
    return `link-holder:${robotId}`;
  }

  #robotChannel(robotId: string): string {
    return `link:${robotId}`;
  }

  get #replyChannel(): string {
    return replyChannel(this.instance);
  }
}

const replyChannel = (instance: string) => `link-reply:${instance}`;

// Channel messages come from other instances of this platform; a malformed one is dropped, never thrown
// inside the connection's event handling.
function parse<T>(message: string): T | undefined {
  try {
    return JSON.parse(message) as T;
  } catch {
    return undefined;
  }
}
