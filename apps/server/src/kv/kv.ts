/**
 * Small shared state with expiry: in-process by default, Redis when several server processes must
 * agree (dead-man timestamps, cached robot info). Values are strings; callers own their encoding.
 */
export interface Kv {
  get(key: string): Promise<string | null>;
  /** `get` of several keys in one round trip, in their order. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Sets `key` to `value` only if it is absent (atomically, across processes with Redis); true if this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Sets `key` unless `unlessKey` exists, in one step (atomically across processes with Redis); true if
   * it set it. A write that a fence (`unlessKey`) must be able to refuse.
   */
  setUnless(key: string, value: string, ttlMs: number, unlessKey: string): Promise<boolean>;
  /** Marks `key` taken if it is absent (`setIfAbsent` with no value to speak of); true if this call took it. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Counts a hit in the fixed window that `key`'s first hit opened (`windowMs` long), atomically across
   * processes with Redis: the count so far in this window, and the milliseconds until it resets.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /**
   * Takes `key` for `owner` if it is free, or keeps it for `ttlMs` more if `owner` already holds it
   * (atomically across processes with Redis); true if `owner` holds it now. A holder that stops renewing
   * loses it when the time runs out.
   */
  lease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives `key` up if `owner` holds it, so the next taker need not wait for it to lapse. */
  unlease(key: string, owner: string): Promise<void>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
