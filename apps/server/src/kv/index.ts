import type { Kv } from "./kv.ts";
import { MemoryKv } from "./memory.ts";
import type { PubSub } from "./pubsub.ts";
import { MemoryPubSub } from "./pubsub-memory.ts";
import { RedisPubSub } from "./pubsub-redis.ts";
import { RedisKv } from "./redis.ts";

export type { Kv } from "./kv.ts";
export type { PubSub } from "./pubsub.ts";

export async function openKv(redisUrl: string | undefined, prefix: string): Promise<Kv> {
  return redisUrl ? new RedisKv(redisUrl, prefix).connect() : new MemoryKv();
}

/** In-process by default; Redis (its own two connections) when several server processes must hear each other. */
export async function openPubSub(redisUrl: string | undefined, prefix: string): Promise<PubSub> {
  return redisUrl ? new RedisPubSub(redisUrl, prefix).connect() : new MemoryPubSub();
}
