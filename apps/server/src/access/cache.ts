import type { Kv } from "../kv/index.ts";
import type { AccessSession } from "./store.ts";

// How long an answer may be served, counted from the database read it comes from (not from when it was
// cached): whatever happens to the cache, what it serves is never older than this.
export const TTL_MS = 1000;
// How long a change keeps fills out. A fill whose read began before the change and that leaves this
// process after the mark lapsed carries a TTL of at most readAt + TTL_MS - now <= 0, and is not cached at
// all; the margin covers a fill that left just before the mark lapsed and is still on its way to the store.
// Short on purpose: while a mark stands, every lookup of that wallet or token reads the database.
const MARK_MS = TTL_MS + 500;
const NONE = "none";
const CHANGED = "changed";

/** A cached answer: the session, or none. */
export type Cached = { readonly session: AccessSession | undefined };

/** What a change of a session touches: its wallet, its token (once it has one) and its robot. */
export interface SessionKeys {
  readonly wallet: string;
  readonly tokenHash?: string | null;
  readonly robotId?: string;
}

/**
 * Who holds what, for the motor path and the unpaid 402: a database read per motor command or quote costs
 * more than the rest of the platform's work together. Entries are keyed by wallet (`wallet:<key>`), token
 * (`token:<hash>`) or robot (`robot:<id>`).
 *
 * A write of a session does not delete its entries but marks them changed for a few seconds: a marked
 * entry sends lookups to the database, and fills only ever set an absent entry. So a lookup that read
 * the session just before it ended (on this server or another) cannot put it back after the end: its fill
 * lands on the mark and is refused, or lands first and is overwritten by it.
 */
export class SessionCache {
  constructor(private readonly kv: Kv) {}

  /**
   * What is cached under `key`: the answer, `changed` while a write keeps fills out (the database must
   * say), undefined when nothing is.
   */
  async get(key: string): Promise<Cached | "changed" | undefined> {
    const cached = await this.kv.get(this.#key(key));
    if (cached === null) return undefined;
    if (cached === CHANGED) return "changed";
    if (cached === NONE) return { session: undefined };
    const row = JSON.parse(cached) as AccessSession &
      Record<"createdAt" | "expiresAt" | "endedAt" | "outageSince", string | null>;
    return {
      session: {
        ...row,
        createdAt: new Date(row.createdAt as string),
        expiresAt: new Date(row.expiresAt as string),
        endedAt: row.endedAt ? new Date(row.endedAt) : null,
        outageSince: row.outageSince ? new Date(row.outageSince) : null,
      },
    };
  }

  /**
   * Caches what a database read begun at `readAt` (epoch ms) found, unless the entry is marked changed
   * or already there; an answer already a second old is not cached at all.
   */
  async set(key: string, session: AccessSession | undefined, readAt: number): Promise<void> {
    const ttlMs = readAt + TTL_MS - Date.now();
    if (ttlMs <= 0) return;
    await this.kv.setIfAbsent(this.#key(key), session ? JSON.stringify(session) : NONE, ttlMs);
  }

  /** Marks what is cached under a session's wallet and, where given, its token hash and robot as changed. */
  async forget({ wallet, tokenHash, robotId }: SessionKeys): Promise<void> {
    const keys = [`wallet:${wallet}`];
    if (tokenHash) keys.push(`token:${tokenHash}`);
    if (robotId) keys.push(`robot:${robotId}`);
    await Promise.all(keys.map((key) => this.kv.set(this.#key(key), CHANGED, MARK_MS)));
  }

  #key(key: string): string {
    return `access:${key}`;
  }
}
