/**
 * Messages to whoever listens on a channel, in this process and, with Redis, in every server process
 * sharing it. Delivery is at most once: a message published while nobody listens is gone.
 */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /**
   * Listens on `channel` from the moment the returned promise resolves; the function it gives stops
   * listening. A listener must not throw: it runs inside the connection's event handling.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
