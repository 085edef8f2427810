import type { Kv } from "../kv/index.ts";
import type { AccessSession } from "./store.ts";

// Short enough that a stale answer (a read racing a release on another server) lapses at once.
const TTL_MS = 1000;
const NONE = "none";

/**
 * Who holds what, for the motor path: a database read per motor command costs more than the rest of
 * the platform's work together. Entries are keyed by wallet (`wallet:<key>`) or token (`token:<hash>`).
 * Every write of a session forgets its entries; entries also lapse after a second, which bounds what a
 * read racing a write on another server can leave behind.
 */
export class SessionCache {
  constructor(private readonly kv: Kv) {}

  async get(key: string): Promise<{ session: AccessSession | undefined } | undefined> {
    const cached = await this.kv.get(this.#key(key));
    if (cached === null) return undefined;
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

  set(key: string, session: AccessSession | undefined): Promise<void> {
    return this.kv.set(this.#key(key), session ? JSON.stringify(session) : NONE, TTL_MS);
  }

  /** Forgets what is cached under a wallet and, if given, a token hash. */
  async forget(wallet: string, tokenHash?: string | null): Promise<void> {
    await this.kv.del(this.#key(`wallet:${wallet}`));
    if (tokenHash) await this.kv.del(this.#key(`token:${tokenHash}`));
  }

  #key(key: string): string {
    return `access:${key}`;
  }
}
