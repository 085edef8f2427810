import { and, desc, eq, inArray, isNotNull, isNull, notExists, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { spentTransactions, type UnmatchedTransferRow, unmatchedTransfers } from "../db/schema.ts";

export type UnmatchedTransfer = UnmatchedTransferRow;
export type NewUnmatchedTransfer = Omit<
  typeof unmatchedTransfers.$inferInsert,
  "id" | "createdAt" | "refundedAt" | "refundTx"
>;

export interface UnmatchedFilter {
  /** Only transfers to these robots (an owner's); undefined: every robot's. */
  readonly robotIds?: readonly string[];
  readonly robotId?: string;
  readonly refunded?: boolean;
  readonly limit: number;
  readonly offset: number;
}

/** True when nothing has claimed the transfer's transaction as its payment. */
const unspent = (db: Db) =>
  notExists(
    db
      .select({ one: spentTransactions.txHash })
      .from(spentTransactions)
      .where(
        and(
          eq(spentTransactions.network, unmatchedTransfers.network),
          eq(spentTransactions.txHash, unmatchedTransfers.txHash),
        ),
      ),
  );

/**
 * The unmatched_transfers table: money that reached a robot's wallet through the plan's transfer flow
 * but paid nothing, once per transaction, until its owner sends it back. A transaction that later pays
 * something after all (its rightful payer verifies it) leaves the table in that same database
 * transaction, and is never listed once spent_transactions holds it; a refunded one can no longer pay.
 */
export class UnmatchedTransfers {
  constructor(private readonly db: Db) {}

  /** Records a refused transfer unless its transaction is already recorded or has paid something. */
  async record(transfer: NewUnmatchedTransfer): Promise<void> {
    const [spent] = await this.db
      .select({ paid: spentTransactions.paid })
      .from(spentTransactions)
      .where(
        and(eq(spentTransactions.network, transfer.network), eq(spentTransactions.txHash, transfer.txHash)),
      );
    if (spent) return;
    await this.db.insert(unmatchedTransfers).values(transfer).onConflictDoNothing();
  }

  /**
   * The transaction's record, locked until `db`'s transaction ends (a refund being marked waits, and
   * sees whether the transaction paid meanwhile); undefined if none.
   */
  async lock(network: string, txHash: string, db: Db): Promise<UnmatchedTransfer | undefined> {
    const [row] = await db
      .select()
      .from(unmatchedTransfers)
      .where(and(eq(unmatchedTransfers.network, network), eq(unmatchedTransfers.txHash, txHash)))
      .for("update");
    return row;
  }

  /** The transaction paid something after all: it is no longer money to send back. */
  async forget(network: string, txHash: string, db: Db = this.db): Promise<void> {
    await db
      .delete(unmatchedTransfers)
      .where(
        and(
          eq(unmatchedTransfers.network, network),
          eq(unmatchedTransfers.txHash, txHash),
          isNull(unmatchedTransfers.refundedAt),
        ),
      );
  }

  async get(id: string): Promise<UnmatchedTransfer | undefined> {
    const [row] = await this.db
      .select()
      .from(unmatchedTransfers)
      .where(and(eq(unmatchedTransfers.id, id), unspent(this.db)));
    return row;
  }

  /** Newest first; never a transaction that paid something. */
  async list(filter: UnmatchedFilter): Promise<UnmatchedTransfer[]> {
    if (filter.robotIds?.length === 0) return [];
    const conditions: (SQL | undefined)[] = [
      unspent(this.db),
      filter.robotIds && inArray(unmatchedTransfers.robotId, [...filter.robotIds]),
      filter.robotId ? eq(unmatchedTransfers.robotId, filter.robotId) : undefined,
      filter.refunded === undefined
        ? undefined
        : filter.refunded
          ? isNotNull(unmatchedTransfers.refundedAt)
          : isNull(unmatchedTransfers.refundedAt),
    ];
    return this.db
      .select()
      .from(unmatchedTransfers)
      .where(and(...conditions))
      .orderBy(desc(unmatchedTransfers.createdAt), desc(unmatchedTransfers.id))
      .limit(filter.limit)
      .offset(filter.offset);
  }

  /**
   * Marks the transfer sent back by `refundTx`; undefined if it was already marked, or if its transaction
   * has meanwhile paid something (then it is not owed).
   */
  async markRefunded(id: string, refundTx: string, at: Date): Promise<UnmatchedTransfer | undefined> {
    const [row] = await this.db
      .update(unmatchedTransfers)
      .set({ refundedAt: at, refundTx })
      .where(and(eq(unmatchedTransfers.id, id), isNull(unmatchedTransfers.refundedAt), unspent(this.db)))
      .returning();
    return row;
  }
}
