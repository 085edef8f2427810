import { and, count, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type PaymentRow, type PaymentStatus, payments } from "../db/schema.ts";
import { SpentTransactions } from "./spent.ts";

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
  | "validBefore"
>;

/** The statuses a crash can leave a payment in, between two steps of its purchase. */
const UNFINISHED = ["verified", "settling", "settled"] satisfies PaymentStatus[];

/**
 * The payments table: one row per verified authorization (payer and nonce), written before money moves
 * and after. Every change of status names the status it leaves, so two writers (a purchase and a
 * recovering instance) never both decide a row.
 */
export class PaymentLedger {
  readonly #spent: SpentTransactions;

  constructor(private readonly db: Db) {
    this.#spent = new SpentTransactions(db);
  }

  /**
   * Records a verified payment. Returns undefined when this authorization is already in the ledger:
   * the same signed payment sent twice, whether one after the other or at the same instant. A payment
   * rejected earlier (a busy robot) may be offered again, and is then written afresh from this one.
   */
  async open(payment: NewPayment): Promise<Payment | undefined> {
    const [row] = await this.db
      .insert(payments)
      .values({ ...payment, status: "verified" })
      .onConflictDoUpdate({
        target: [payments.network, payments.asset, payments.payer, payments.nonce],
        set: {
          ...payment,
          status: "verified",
          reason: null,
          sessionId: null,
          recoveryClaimedUntil: null,
          updatedAt: new Date(),
        },
        setWhere: sql`${payments.status} = 'rejected'`,
      })
      .returning();
    return row;
  }

  find(network: string, asset: string, payer: string, nonce: string): Promise<Payment | undefined> {
    return this.db
      .select()
      .from(payments)
      .where(
        and(
          eq(payments.network, network),
          eq(payments.asset, asset),
          eq(payments.payer, payer),
          eq(payments.nonce, nonce),
        ),
      )
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

  /** verified → settling, for `sessionId`: written before the money moves. False if it had left `verified`. */
  async settling(id: string, sessionId: string): Promise<boolean> {
    return this.#move(id, ["verified"], { status: "settling", sessionId });
  }

  /**
   * settling → settled with the transaction that moved the money, which is claimed platform-wide in the
   * same database transaction: a transaction pays one thing. False if the row had left `settling`.
   */
  settled(payment: Payment, txHash: string | null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const moved = await this.#move(payment.id, ["settling"], { status: "settled", txHash }, db);
      // A transaction the chain cannot name (no log of it) claims nothing.
      if (moved && txHash) await this.#spent.claim(payment.network, txHash, { kind: "payment", id: payment.id }, db);
      return moved;
    });
  }

  /** settled → granted: what it paid for was delivered. */
  granted(id: string, sessionId: string): Promise<boolean> {
    return this.#move(id, ["settled"], { status: "granted", sessionId });
  }

  /** A verified payment that will not be settled (robot busy or offline, service failed): nothing moved. */
  rejected(id: string, reason: string): Promise<boolean> {
    return this.#move(id, ["verified"], { status: "rejected", reason });
  }

  /** The chain refused the settlement, or it can no longer land: nothing moved. */
  failed(id: string, reason: string): Promise<boolean> {
    return this.#move(id, ["verified", "settling"], { status: "failed", reason });
  }

  /** Money moved but what it paid for cannot be delivered: owed back to the payer. */
  refundDue(id: string, reason: string): Promise<boolean> {
    return this.#move(id, ["settled"], { status: "refund_due", reason });
  }

  /**
   * Takes the unfinished payments last touched before `before` for this instance until `until`: a row
   * another instance holds is skipped, so each is decided by one instance at a time.
   */
  claimUnfinished(before: Date, until: Date, now: Date): Promise<Payment[]> {
    return this.db
      .update(payments)
      .set({ recoveryClaimedUntil: until })
      .where(
        and(
          inArray(payments.status, UNFINISHED),
          lt(payments.updatedAt, before),
          or(isNull(payments.recoveryClaimedUntil), lt(payments.recoveryClaimedUntil, now)),
        ),
      )
      .returning();
  }

  /** How many payments are in each status. */
  countByStatus(): Promise<Array<{ status: string; count: number }>> {
    return this.db
      .select({ status: payments.status, count: count() })
      .from(payments)
      .groupBy(payments.status);
  }

  async #move(
    id: string,
    from: PaymentStatus[],
    change: Partial<Pick<Payment, "status" | "reason" | "txHash" | "sessionId">>,
    db: Db = this.db,
  ): Promise<boolean> {
    const rows = await db
      .update(payments)
      .set({ ...change, updatedAt: new Date() })
      .where(and(eq(payments.id, id), inArray(payments.status, from)))
      .returning({ id: payments.id });
    return rows.length > 0;
  }
}
