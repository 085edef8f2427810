import { Redis } from "ioredis";
import type { Kv } from "./kv.ts";

// INCR, then start the window if the key has none (its first hit, or a key that lost its expiry), then
// read what is left of it: one round trip, atomic across processes, and on any Redis version (PEXPIRE's
// NX flag needs Redis 7).
const HIT_SCRIPT = `
local count = redis.call("INCR", KEYS[1])
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

// Renew if ours, else take if free: one round trip, so two processes never both think they hold it.
const LEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
if redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2], "NX") then return 1 end
return 0`;

const UNLEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 0`;

const SET_UNLESS_SCRIPT = `
if redis.call("EXISTS", KEYS[2]) == 1 then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1`;

export class RedisKv implements Kv {
  readonly #redis: Redis;

  constructor(url: string, prefix: string, onError: (error: Error) => void = () => {}) {
    this.#redis = new Redis(url, {
      keyPrefix: prefix,
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      // While Redis is away, a command fails at once (a 503 for its request) instead of queueing for
      // reconnects that back off to seconds; and reconnects stay frequent, so service resumes soon after.
      enableOfflineQueue: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    this.#redis.on("error", onError);
  }

  async connect(): Promise<this> {
    await this.#redis.connect();
    return this;
  }

  get(key: string): Promise<string | null> {
    return this.#redis.get(key);
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    return keys.length === 0 ? [] : this.#redis.mget(keys);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.#redis.set(key, value);
    else await this.#redis.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  async del(key: string): Promise<void> {
    await this.#redis.del(key);
  }

  async lease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(LEASE_SCRIPT, 1, key, owner, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  async unlease(key: string, owner: string): Promise<void> {
    await this.#redis.eval(UNLEASE_SCRIPT, 1, key, owner);
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
  }

  async setUnless(key: string, value: string, ttlMs: number, unlessKey: string): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.#redis.eval(SET_UNLESS_SCRIPT, 2, key, unlessKey, value, ttl)) === 1;
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.setIfAbsent(key, "1", ttlMs);
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const [count, resetMs] = (await this.#redis.eval(
      HIT_SCRIPT,
      1,
      key,
      Math.max(1, Math.ceil(windowMs)),
    )) as [number, number];
    return { count, resetMs };
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
