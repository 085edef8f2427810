import { and, desc, eq, inArray, lte, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import {
  type ExecutionLogRow,
  type ExecutionStatus,
  executionLogs,
  type PaymentSessionRow,
  type PaymentSessionStatus,
  paymentSessions,
} from "../db/schema.ts";

export type PaymentSession = PaymentSessionRow;
export type NewPaymentSession = typeof paymentSessions.$inferInsert;
export type ExecutionLog = ExecutionLogRow;

export interface SessionFilter {
  readonly status?: PaymentSessionStatus | readonly PaymentSessionStatus[];
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

  async open(session: NewPaymentSession): Promise<PaymentSession> {
    const [row] = await this.db.insert(paymentSessions).values(session).returning();
    if (!row) throw new Error("insert returned no payment session");
    return row;
  }

  /** The session `id` names; undefined for none, or for an id that is not a UUID (never sent to the database). */
  async get(id: string): Promise<PaymentSession | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
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
  ): Promise<PaymentSession | undefined> {
    const [row] = await db
      .update(paymentSessions)
      .set({ status: "paid", ...payment })
      .where(and(eq(paymentSessions.id, id), eq(paymentSessions.status, "pending")))
      .returning();
    return row;
  }

  /** paid → completed: what was bought has been delivered. */
  async complete(id: string, db: Db = this.db): Promise<void> {
    await db.update(paymentSessions).set({ status: "completed" }).where(eq(paymentSessions.id, id));
  }

  async log(entry: typeof executionLogs.$inferInsert, db: Db = this.db): Promise<ExecutionLog> {
    const [row] = await db.insert(executionLogs).values(entry).returning();
    if (!row) throw new Error("insert returned no execution log");
    return row;
  }

  /** Ends pending sessions whose time is up; returns their ids (each is expired by exactly one caller). */
  async expire(now: Date): Promise<string[]> {
    const rows = await this.db
      .update(paymentSessions)
      .set({ status: "expired" })
      .where(and(eq(paymentSessions.status, "pending"), lte(paymentSessions.expiresAt, now)))
      .returning({ id: paymentSessions.id });
    return rows.map((row) => row.id);
  }

  async sessions(filter: SessionFilter): Promise<PaymentSession[]> {
    const conditions: (SQL | undefined)[] = [
      filter.status ? inArray(paymentSessions.status, [filter.status].flat()) : undefined,
      filter.robotId ? eq(paymentSessions.robotId, filter.robotId) : undefined,
      filter.userId ? eq(paymentSessions.userId, filter.userId) : undefined,
      filter.robotIds && inArray(paymentSessions.robotId, [...filter.robotIds]),
    ];
    return this.db
      .select()
      .from(paymentSessions)
      .where(and(...conditions))
      .orderBy(desc(paymentSessions.createdAt), desc(paymentSessions.id))
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
