import type { Kv } from "./kv.ts";
import { MemoryKv } from "./memory.ts";
import { RedisKv } from "./redis.ts";

export type { Kv } from "./kv.ts";

export async function openKv(redisUrl: string | undefined, prefix: string): Promise<Kv> {
  return redisUrl ? new RedisKv(redisUrl, prefix).connect() : new MemoryKv();
}
