import type { Kv } from "./kv.ts";
import { MemoryKv } from "./memory.ts";
import type { PubSub } from "./pubsub.ts";
import { MemoryPubSub } from "./pubsub-memory.ts";
import { RedisPubSub } from "./pubsub-redis.ts";
import { RedisKv } from "./redis.ts";

export type { Kv } from "./kv.ts";
export type { PubSub } from "./pubsub.ts";

/** Hears a Redis connection's errors (it reconnects by itself); without a listener ioredis prints each one. */
export type RedisErrorListener = (error: Error) => void;

// While Redis is away its client fails every reconnect, several times a second: one line per this long.
const ERROR_REPORT_MS = 30_000;

export async function openKv(
  redisUrl: string | undefined,
  prefix: string,
  onError: RedisErrorListener = () => {},
): Promise<Kv> {
  return redisUrl ? new RedisKv(redisUrl, prefix, throttled(onError)).connect() : new MemoryKv();
}

/** In-process by default; Redis (its own two connections) when several server processes must hear each other. */
export async function openPubSub(
  redisUrl: string | undefined,
  prefix: string,
  onError: RedisErrorListener = () => {},
): Promise<PubSub> {
  return redisUrl ? new RedisPubSub(redisUrl, prefix, throttled(onError)).connect() : new MemoryPubSub();
}

function throttled(listener: RedisErrorListener): RedisErrorListener {
  let last = 0;
  return (error) => {
    if (Date.now() - last < ERROR_REPORT_MS) return;
    last = Date.now();
    listener(error);
  };
}
