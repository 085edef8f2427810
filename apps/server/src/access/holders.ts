import { TTL_MS } from "./cache.ts";
import type { AccessSession } from "./store.ts";

/**
 * Who holds every robot, read in one query and served for the session cache's second, counted from the
 * read's start. Quotes and listings ask about many robots in turn; one read answers them all.
 *
 * It serves only robots the session cache has no mark on (AccessService.seenHolder): a write marks its
 * robot for longer than this lasts, so once the mark has lapsed, any snapshot still served was read after
 * the write, and a robot still marked is read alone.
 */
export class HolderSnapshot {
  #read: { readonly at: number; readonly holders: Promise<Map<string, AccessSession>> } | undefined;

  constructor(private readonly load: () => Promise<AccessSession[]>) {}

  holder(robotId: string): Promise<AccessSession | undefined> {
    if (!this.#read || Date.now() - this.#read.at >= TTL_MS) {
      const read = {
        at: Date.now(),
        holders: this.load().then(
          (sessions) => new Map(sessions.map((session) => [session.robotId, session])),
        ),
      };
      // A failed read is not kept: the next question reads again.
      read.holders.catch(() => {
        if (this.#read === read) this.#read = undefined;
      });
      this.#read = read;
    }
    return this.#read.holders.then((holders) => holders.get(robotId));
  }
}
