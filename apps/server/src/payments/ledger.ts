import { and, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type PaymentRow, type PaymentStatus, payments } from "../db/schema.ts";

export type Payment = PaymentRow;
export type NewPayment = Pick<
  Payment,
  | "network"
  | "scheme"
  | "asset"
  | "payer"
  | "payTo"
  | "amount"
  | "nonce"
  | "resource"
  | "payload"
  | "paymentIdentifier"
>;

/** The payments table: written before money moves and after, one row per on-chain authorization. */
export class PaymentLedger {
  constructor(private readonly db: Db) {}

  /**
   * Records a verified payment. Returns undefined when this authorization is already in the ledger:
   * the same signed payment sent twice, whether one after the other or at the same instant.
   */
  async open(payment: NewPayment): Promise<Payment | undefined> {
    const [row] = await this.db
      .insert(payments)
      .values({ ...payment, status: "verified" })
      // A payment refused earlier (a facilitator hiccup, a busy robot) may be offered again.
      .onConflictDoUpdate({
        target: [payments.network, payments.asset, payments.nonce],
        set: { status: "verified", reason: null, updatedAt: new Date() },
        setWhere: sql`${payments.status} = 'rejected'`,
      })
      .returning();
    return row;
  }

  /** A refused payment, kept so the refusal and its reason can be looked up. */
  async reject(payment: NewPayment, reason: string): Promise<void> {
    await this.db
      .insert(payments)
      .values({ ...payment, status: "rejected", reason })
      .onConflictDoNothing();
  }

  find(network: string, asset: string, nonce: string): Promise<Payment | undefined> {
    return this.db
      .select()
      .from(payments)
      .where(and(eq(payments.network, network), eq(payments.asset, asset), eq(payments.nonce, nonce)))
      .then((rows) => rows[0]);
  }

  /** The latest payment a payer made under a payment identifier. */
  findByIdentifier(payer: string, paymentIdentifier: string): Promise<Payment | undefined> {
    return this.db
      .select()
      .from(payments)
      .where(and(eq(payments.payer, payer), eq(payments.paymentIdentifier, paymentIdentifier)))
      .orderBy(desc(payments.createdAt))
      .limit(1)
      .then((rows) => rows[0]);
  }

  async update(
    id: string,
    change: Partial<Pick<Payment, "status" | "reason" | "txHash" | "sessionId">>,
  ): Promise<void> {
    await this.db
      .update(payments)
      .set({ ...change, updatedAt: new Date() })
      .where(eq(payments.id, id));
  }

  /** Payments a crash may have left between two steps. */
  unfinished(): Promise<Payment[]> {
    return this.db
      .select()
      .from(payments)
      .where(inArray(payments.status, ["verified", "settling", "settled"] satisfies PaymentStatus[]));
  }

  /** How many payments are in each status. */
  countByStatus(): Promise<Array<{ status: string; count: number }>> {
    return this.db
      .select({ status: payments.status, count: count() })
      .from(payments)
      .groupBy(payments.status);
  }
}
