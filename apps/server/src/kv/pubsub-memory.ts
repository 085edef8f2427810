import { EventEmitter } from "node:events";
import type { PubSub } from "./pubsub.ts";

export class MemoryPubSub implements PubSub {
  // Any number of sockets may watch one channel; EventEmitter's leak warning would be noise.
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: string): Promise<void> {
    this.#emitter.emit(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    // A wrapper of its own, so that one function subscribed twice is unsubscribed once per call.
    const entry = (message: string) => listener(message);
    this.#emitter.on(channel, entry);
    return async () => {
      this.#emitter.off(channel, entry);
    };
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}
