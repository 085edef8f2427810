import { Redis } from "ioredis";
import type { PubSub } from "./pubsub.ts";

type Listener = (message: string) => void;
interface Channel {
  readonly listeners: Set<Listener>;
  /** Redis's confirmation of SUBSCRIBE: nobody listens before it. */
  readonly subscribed: Promise<unknown>;
}

/**
 * Pub/sub through Redis. A connection in subscriber mode can do nothing else, so subscriptions get a
 * connection of their own (a `duplicate()` of the publisher's). ioredis subscribes it again to every
 * channel after a reconnect (`autoResubscribe`, on by default); messages sent while it was away are lost.
 * Channel names carry the key prefix: deployments sharing a Redis do not hear each other.
 */
export class RedisPubSub implements PubSub {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #channels = new Map<string, Channel>();

  constructor(url: string, prefix: string, onError: (error: Error) => void = () => {}) {
    this.#prefix = prefix;
    // Named, so that CLIENT LIST shows whose connections these are; names take no spaces.
    const name = `${prefix}pubsub`.replace(/[^!-~]/g, "_");
    this.#publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: name });
    this.#subscriber = this.#publisher.duplicate();
    this.#publisher.on("error", onError);
    this.#subscriber.on("error", onError);
    this.#subscriber.on("message", (channel: string, message: string) => {
      for (const listener of this.#channels.get(channel)?.listeners ?? []) listener(message);
    });
  }

  async connect(): Promise<this> {
    await Promise.all([this.#publisher.connect(), this.#subscriber.connect()]);
    return this;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#publisher.publish(this.#prefix + channel, message);
  }

  async subscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    const name = this.#prefix + channel;
    const entry: Listener = (message) => listener(message);
    let state = this.#channels.get(name);
    if (!state) {
      state = { listeners: new Set(), subscribed: this.#subscriber.subscribe(name) };
      this.#channels.set(name, state);
    }
    state.listeners.add(entry);
    const subscribed = state;
    // Redis runs a connection's commands in order, so an UNSUBSCRIBE sent now lands after the SUBSCRIBE
    // above even if that is still on its way, and a later SUBSCRIBE after both.
    const drop = () => {
      if (!subscribed.listeners.delete(entry) || subscribed.listeners.size > 0) return false;
      // Gone already when close() came first: then there is no connection to unsubscribe on.
      return this.#channels.get(name) === subscribed && this.#channels.delete(name);
    };
    try {
      await subscribed.subscribed;
    } catch (error) {
      drop();
      throw error;
    }
    return async () => {
      if (drop()) await this.#subscriber.unsubscribe(name);
    };
  }

  async close(): Promise<void> {
    this.#channels.clear();
    await Promise.all([this.#subscriber.quit(), this.#publisher.quit()]);
  }
}
