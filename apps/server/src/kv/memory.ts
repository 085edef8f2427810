import type { Kv } from "./kv.ts";

export class MemoryKv implements Kv {
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();

  async get(key: string): Promise<string | null> {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#entries.set(key, {
      value,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs,
    });
  }

  async del(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== null) return false;
    await this.set(key, "1", ttlMs);
    return true;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
