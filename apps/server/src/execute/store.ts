import { and, desc, eq, inArray, lte, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import {
  type CallQuoteRow,
  type CallQuoteStatus,
  callQuotes,
  type ExecutionLogRow,
  type ExecutionStatus,
  executionLogs,
} from "../db/schema.ts";

export type CallQuote = CallQuoteRow;
export type NewCallQuote = typeof callQuotes.$inferInsert;
export type ExecutionLog = ExecutionLogRow;

export interface SessionFilter {
  readonly status?: CallQuoteStatus | readonly CallQuoteStatus[];
  readonly robotId?: string;
  readonly userId?: string;
  /** Only sessions of these robots (an owner's, as the catalog lists them). */
  readonly robotIds?: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

export interface ExecutionFilter {
  readonly status?: ExecutionStatus;
  readonly robotId?: string;
  readonly userId?: string;
  readonly robotIds?: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The payment_sessions and execution_logs tables. */
export class ExecuteStore {
  constructor(private readonly db: Db) {}

  async open(session: NewCallQuote): Promise<CallQuote> {
    const [row] = await this.db.insert(callQuotes).values(session).returning();
    if (!row) throw new Error("insert returned no payment session");
    return row;
  }

  /** The session `id` names; undefined for none, or for an id that is not a UUID (never sent to the database). */
  async get(id: string): Promise<CallQuote | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.db.select().from(callQuotes).where(eq(callQuotes.id, id));
    return row;
  }

  /**
   * pending → paid with the transaction that paid it; undefined if the session was no longer pending.
   * The unique index on (network, tx_signature) refuses a transaction that already paid another session.
   */
  async markPaid(
    id: string,
    payment: { txSignature: string; payer: string; paidAt: Date },
    db: Db = this.db,
  ): Promise<CallQuote | undefined> {
    const [row] = await db
      .update(callQuotes)
      .set({ status: "paid", ...payment })
      .where(and(eq(callQuotes.id, id), eq(callQuotes.status, "pending")))
      .returning();
    return row;
  }

  /** paid → completed: what was bought has been delivered. */
  async complete(id: string, db: Db = this.db): Promise<void> {
    await db.update(callQuotes).set({ status: "completed" }).where(eq(callQuotes.id, id));
  }

  async log(entry: typeof executionLogs.$inferInsert, db: Db = this.db): Promise<ExecutionLog> {
    const [row] = await db.insert(executionLogs).values(entry).returning();
    if (!row) throw new Error("insert returned no execution log");
    return row;
  }

  /** Ends pending sessions whose time is up; returns their ids (each is expired by exactly one caller). */
  async expire(now: Date): Promise<string[]> {
    const rows = await this.db
      .update(callQuotes)
      .set({ status: "expired" })
      .where(and(eq(callQuotes.status, "pending"), lte(callQuotes.expiresAt, now)))
      .returning({ id: callQuotes.id });
    return rows.map((row) => row.id);
  }

  async sessions(filter: SessionFilter): Promise<CallQuote[]> {
    const conditions: (SQL | undefined)[] = [
      filter.status ? inArray(callQuotes.status, [filter.status].flat()) : undefined,
      filter.robotId ? eq(callQuotes.robotId, filter.robotId) : undefined,
      filter.userId ? eq(callQuotes.userId, filter.userId) : undefined,
      filter.robotIds && inArray(callQuotes.robotId, [...filter.robotIds]),
    ];
    return this.db
      .select()
      .from(callQuotes)
      .where(and(...conditions))
      .orderBy(desc(callQuotes.createdAt), desc(callQuotes.id))
      .limit(filter.limit)
      .offset(filter.offset);
  }

  async executions(filter: ExecutionFilter): Promise<ExecutionLog[]> {
    const conditions: (SQL | undefined)[] = [
      filter.status ? eq(executionLogs.status, filter.status) : undefined,
      filter.robotId ? eq(executionLogs.robotId, filter.robotId) : undefined,
      filter.userId ? eq(executionLogs.userId, filter.userId) : undefined,
      filter.robotIds && inArray(executionLogs.robotId, [...filter.robotIds]),
    ];
    return this.db
      .select()
      .from(executionLogs)
      .where(and(...conditions))
      .orderBy(desc(executionLogs.executedAt), desc(executionLogs.id))
      .limit(filter.limit)
      .offset(filter.offset);
  }

  transaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(tx as unknown as Db));
  }
}
