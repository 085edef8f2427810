import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { spentTransactions } from "../db/schema.ts";

/** What a transaction paid: an x402 payment in the ledger, or a per-call session paid by transfer. */
export type Paid = { kind: "payment"; id: string } | { kind: "session"; id: string };

/** How spent_transactions names what a transaction paid: `payment:<ledger id>`, `session:<session id>`. */
export const paidLabel = (paid: Paid): string => `${paid.kind}:${paid.id}`;

/**
 * The one rule every way of paying shares: an on-chain transaction pays at most one thing. x402
 * settlements, drive purchases and per-call sessions all claim their transaction here, inside the
 * transaction that records what it paid.
 */
export class SpentTransactions {
  constructor(private readonly db: Db) {}

  /** True if `txHash` (canonical form) now pays `paid`; false if it already paid something else. */
  async claim(network: string, txHash: string, paid: Paid, db: Db = this.db): Promise<boolean> {
    const label = paidLabel(paid);
    const [row] = await db
      .insert(spentTransactions)
      .values({ network, txHash, paid: label })
      .onConflictDoNothing()
      .returning({ paid: spentTransactions.paid });
    if (row) return true;
    // Claimed before by the very same thing (a retry of the same write) is still this transaction's one use.
    const [prior] = await db
      .select({ paid: spentTransactions.paid })
      .from(spentTransactions)
      .where(and(eq(spentTransactions.network, network), eq(spentTransactions.txHash, txHash)));
    return prior?.paid === label;
  }

  /** What `txHash` (canonical form) paid, as `payment:<id>` or `session:<id>`; undefined if nothing yet. */
  async paidBy(network: string, txHash: string, db: Db = this.db): Promise<string | undefined> {
    const [row] = await db
      .select({ paid: spentTransactions.paid })
      .from(spentTransactions)
      .where(and(eq(spentTransactions.network, network), eq(spentTransactions.txHash, txHash)));
    return row?.paid;
  }
}
