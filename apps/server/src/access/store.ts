import { and, count, eq, gt, isNotNull, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type AccessSessionRow, accessSessions } from "../db/schema.ts";

export type AccessSession = AccessSessionRow;

export type GrantResult =
  | { ok: true; session: AccessSession; lapsed: AccessSession[]; replaced: AccessSession[] }
  | { ok: false; reason: "robot_taken"; holder: AccessSession }
  | { ok: false; reason: "wallet_raced" };

const active = isNull(accessSessions.endedAt);

/** The access_sessions table. Every lock decision is made here, inside one transaction. */
export class AccessStore {
  constructor(private readonly db: Db) {}

  /**
   * Binds `wallet` to `robotId` until `expiresAt`. In one transaction: lapsed sessions on either side
   * are ended, the wallet's current session (if any) is ended as replaced, and the new row is
   * inserted; the partial unique indexes turn a concurrent winner into a refusal, not a second lock.
   * `lapsed` and `replaced` are the sessions this ended (their robots need a stop, their tokens an end).
   */
  grant(input: {
    wallet: string;
    robotId: string;
    now: Date;
    expiresAt: Date;
    paymentTx?: string | null;
    pending?: boolean;
    tokenHash?: string | null;
    paymentId?: string | null;
  }): Promise<GrantResult> {
    const { wallet, robotId, now, expiresAt, paymentTx = null, pending = false, tokenHash = null } = input;
    return this.db
      .transaction(async (tx) => {
        // One statement ends both: sessions lapsed on either side (expired), and the wallet's current
        // session (replaced). A session still settling is never replaced: the wallet's second purchase
        // waits its turn (409), or both would be charged and only one could be granted. Nor is a paid one
        // replaced by a payment for the same robot: that is the same time bought twice (a double click).
        const lapses = lte(accessSessions.expiresAt, now);
        const ended = await tx
          .update(accessSessions)
          .set({
            endedAt: now,
            endReason: sql`case when ${lapses} then 'expired' else 'replaced' end`,
          })
          .where(
            and(
              active,
              or(
                and(lapses, or(eq(accessSessions.robotId, robotId), eq(accessSessions.wallet, wallet))),
                and(
                  eq(accessSessions.wallet, wallet),
                  eq(accessSessions.pending, false),
                  pending ? ne(accessSessions.robotId, robotId) : undefined,
                ),
              ),
            ),
          )
          .returning();
        const lapsed = ended.filter((session) => session.endReason === "expired");
        const replaced = ended.filter((session) => session.endReason === "replaced");
        const [session] = await tx
          .insert(accessSessions)
          .values({
            wallet,
            robotId,
            createdAt: now,
            expiresAt,
            paymentTx,
            pending,
            tokenHash,
            paymentId: input.paymentId,
          })
          .onConflictDoNothing()
          .returning();
        if (!session) {
          const [holder] = await tx
            .select()
            .from(accessSessions)
            .where(and(active, eq(accessSessions.robotId, robotId)));
          // Undo the wallet's replaced session: a refused purchase must leave everything as it was.
          throw new Refused(
            holder ? { ok: false, reason: "robot_taken", holder } : { ok: false, reason: "wallet_raced" },
          );
        }
        return { ok: true as const, session, lapsed, replaced };
      })
      .catch((error: unknown) => {
        if (error instanceof Refused) return error.result;
        throw error;
      });
  }

  /** The wallet's session that may drive now (not one still waiting for its payment to settle). */
  async activeForWallet(wallet: string, now: Date): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .select()
      .from(accessSessions)
      .where(and(active, eq(accessSessions.wallet, wallet), eq(accessSessions.pending, false)));
    return row && row.expiresAt > now ? row : undefined;
  }

  async activeForToken(tokenHash: string, now: Date): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .select()
      .from(accessSessions)
      .where(and(active, eq(accessSessions.tokenHash, tokenHash), eq(accessSessions.pending, false)));
    return row && row.expiresAt > now ? row : undefined;
  }

  async byId(id: string): Promise<AccessSession | undefined> {
    const [row] = await this.db.select().from(accessSessions).where(eq(accessSessions.id, id));
    return row;
  }

  /** Opens a held session for driving once its payment has settled; undefined if it is gone. */
  async activate(
    id: string,
    change: { expiresAt: Date; paymentTx: string | null; tokenHash: string },
  ): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .update(accessSessions)
      .set({ ...change, pending: false })
      .where(and(active, eq(accessSessions.id, id), eq(accessSessions.pending, true)))
      .returning();
    return row;
  }

  async rotateToken(id: string, tokenHash: string): Promise<void> {
    await this.db.update(accessSessions).set({ tokenHash }).where(eq(accessSessions.id, id));
  }

  async abandonForPayment(paymentId: string, now: Date): Promise<AccessSession[]> {
    return this.db
      .update(accessSessions)
      .set({ endedAt: now, endReason: "payment_failed" })
      .where(and(active, eq(accessSessions.paymentId, paymentId), eq(accessSessions.pending, true)))
      .returning();
  }

  /** Lets go of a held session whose payment did not settle. */
  async abandon(id: string, now: Date): Promise<AccessSession[]> {
    return this.db
      .update(accessSessions)
      .set({ endedAt: now, endReason: "payment_failed" })
      .where(and(active, eq(accessSessions.id, id)))
      .returning();
  }

  async activeForRobot(robotId: string, now: Date): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .select()
      .from(accessSessions)
      .where(and(active, eq(accessSessions.robotId, robotId)));
    return row && row.expiresAt > now ? row : undefined;
  }

  /** Ends a live session now; returns it, or undefined when it had already ended. */
  async release(id: string, now: Date): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .update(accessSessions)
      .set({ endedAt: now, endReason: "released" })
      .where(and(active, eq(accessSessions.id, id), eq(accessSessions.pending, false)))
      .returning();
    return row;
  }

  /**
   * Ends every session whose time is up. The UPDATE … RETURNING hands each lapsed session to exactly
   * one caller, so with several server processes each robot is stopped once. A session whose robot is
   * in an outage is not due: its clock is stopped.
   */
  expireDue(now: Date): Promise<AccessSession[]> {
    return this.db
      .update(accessSessions)
      .set({ endedAt: now, endReason: "expired" })
      .where(and(active, isNull(accessSessions.outageSince), lte(accessSessions.expiresAt, now)))
      .returning();
  }

  /** Stops the clock of the live, paid session on `robotId` (its robot stopped answering at `now`). */
  async pauseForOutage(robotId: string, now: Date): Promise<AccessSession | undefined> {
    const [row] = await this.db
      .update(accessSessions)
      .set({ outageSince: now })
      .where(
        and(
          active,
          eq(accessSessions.robotId, robotId),
          eq(accessSessions.pending, false),
          isNull(accessSessions.outageSince),
          gt(accessSessions.expiresAt, now),
        ),
      )
      .returning();
    return row;
  }

  /**
   * Adds the outage so far to the paused sessions' `expires_at` (of `robotId` only, if given) and
   * counts on from `now`; `resume` also starts their clocks again. One statement per call, so processes
   * doing this at once add each stretch of time once.
   */
  async creditOutage(now: Date, options: { robotId?: string; resume: boolean }): Promise<AccessSession[]> {
    const at = sql`${now.toISOString()}::timestamptz`;
    return this.db
      .update(accessSessions)
      .set({
        expiresAt: sql`${accessSessions.expiresAt} + greatest(${at} - ${accessSessions.outageSince}, interval '0')`,
        outageSince: options.resume ? null : sql`greatest(${at}, ${accessSessions.outageSince})`,
      })
      .where(
        and(
          active,
          isNotNull(accessSessions.outageSince),
          options.robotId ? eq(accessSessions.robotId, options.robotId) : undefined,
        ),
      )
      .returning();
  }

  /** Every session not ended, lapsed or not: who holds each robot, read at once. */
  allActive(): Promise<AccessSession[]> {
    return this.db.select().from(accessSessions).where(active);
  }

  /** Sessions holding a robot at `now`. */
  async countActive(now: Date): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(accessSessions)
      .where(and(active, gt(accessSessions.expiresAt, now)));
    return row?.n ?? 0;
  }
}

class Refused extends Error {
  constructor(readonly result: GrantResult) {
    super("refused");
  }
}
