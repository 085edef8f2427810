/**
 * Small shared state with expiry: in-process by default, Redis when several server processes must
 * agree (dead-man timestamps, cached robot info). Values are strings; callers own their encoding.
 */
export interface Kv {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Sets `key` only if it is absent (atomically, across processes with Redis); true if this call set it. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Counts a hit in the fixed window that `key`'s first hit opened (`windowMs` long), atomically across
   * processes with Redis: the count so far in this window, and the milliseconds until it resets.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  close(): Promise<void>;
}
