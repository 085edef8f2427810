import type { Kv } from "./kv.ts";

// Expired entries are dropped when read, but a key read never again (a rate-limit counter of a client
// that left) would stay forever: the map is swept whenever it has doubled since the last sweep.
const MIN_SWEEP_SIZE = 1024;

export class MemoryKv implements Kv {
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  #sweepAt = MIN_SWEEP_SIZE;

  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.#live(key)?.value ?? null);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#put(key, value, ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs);
  }

  async del(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)) return false;
    this.#put(key, value, Date.now() + ttlMs);
    return true;
  }

  async setUnless(key: string, value: string, ttlMs: number, unlessKey: string): Promise<boolean> {
    if (this.#live(unlessKey)) return false;
    this.#put(key, value, Date.now() + ttlMs);
    return true;
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.setIfAbsent(key, "1", ttlMs);
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const now = Date.now();
    const entry = this.#live(key);
    const count = entry ? Number(entry.value) + 1 : 1;
    const expiresAt = entry ? entry.expiresAt : now + windowMs;
    this.#put(key, String(count), expiresAt);
    return { count, resetMs: expiresAt - now };
  }

  async lease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (entry && entry.value !== owner) return false;
    await this.set(key, owner, ttlMs);
    return true;
  }

  async unlease(key: string, owner: string): Promise<void> {
    if (this.#live(key)?.value === owner) this.#entries.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #live(key: string): { value: string; expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #put(key: string, value: string, expiresAt: number): void {
    this.#entries.set(key, { value, expiresAt });
    if (this.#entries.size < this.#sweepAt) return;
    const now = Date.now();
    for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k);
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#entries.size * 2);
  }
}
