import { Redis } from "ioredis";
import type { Kv } from "./kv.ts";

export class RedisKv implements Kv {
  readonly #redis: Redis;

  constructor(url: string, prefix: string) {
    this.#redis = new Redis(url, { keyPrefix: prefix, lazyConnect: true, maxRetriesPerRequest: 2 });
  }

  async connect(): Promise<this> {
    await this.#redis.connect();
    return this;
  }

  get(key: string): Promise<string | null> {
    return this.#redis.get(key);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.#redis.set(key, value);
    else await this.#redis.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  async del(key: string): Promise<void> {
    await this.#redis.del(key);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(key, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
