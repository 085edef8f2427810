import type { x402ResourceServer } from "@x402/core/server";
import { SettleError } from "@x402/core/types";
import { and, count, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import { type PaymentRow, type PaymentStatus, payments, spentTransactions } from "../db/schema.ts";
import { familyOf } from "./families/index.ts";
import { paidLabel } from "./spent.ts";
import type { PaymentAttempt } from "./x402.ts";

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

/** The statuses a crash can leave a payment in, between two steps of its purchase: a purchase under way. */
export const UNFINISHED: readonly PaymentStatus[] = ["verified", "settling", "settled"];

/**
 * The payments table: one row per verified authorization (payer and nonce), written before money moves
 * and after. Every change of status names the status it leaves, so two writers (a purchase and a
 * recovering instance) never both decide a row.
 */
export class PaymentLedger {
  constructor(private readonly db: Db) {}

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

  /**
   * Writes the ledger from x402's own lifecycle hooks: the one place a payment's row changes on its way
   * through verify and settle. Each hook reads and writes the attempt it is given as transport context.
   * x402 logs and ignores a hook that throws, so a write that fails aborts instead: no money moves that
   * the ledger did not write down first.
   */
  recordFrom(server: x402ResourceServer, logger: Logger): void {
    // Each hook adds its time to the attempt's, so the x402 path can report the ledger's share.
    const timed =
      <C extends { transportContext?: unknown }, R>(hook: (context: C) => Promise<R>) =>
      async (context: C): Promise<R> => {
        const started = performance.now();
        try {
          return await hook(context);
        } finally {
          (context.transportContext as PaymentAttempt).ledgerMs += performance.now() - started;
        }
      };
    server.onAfterVerify(
      timed(async ({ result, transportContext }) => {
        const attempt = transportContext as PaymentAttempt;
        if (!result.isValid) return;
        // A retry of a purchase granted or under way under the same identifier: never a second row. (Should
        // the read fail, verification answers with that failure, and this row is rejected by recovery.)
        const earlier = await attempt.earlier?.catch(() => undefined);
        if (earlier && (earlier.status === "granted" || UNFINISHED.includes(earlier.status))) return;
        const family = familyOf(attempt.requirements.network);
        // The payer is the signer the facilitator verified; the header's own claim only looked things up.
        const payer = result.payer ? family?.canonical(result.payer) : undefined;
        if (payer !== attempt.claimed.payer)
          return abort(
            "payer_mismatch",
            `the payment's signer is not the payer it names (${payer ?? "none"})`,
          );
        try {
          attempt.payment = await this.open({ ...attempt.entry, payer });
        } catch (error) {
          attempt.ledgerError = error;
          return abort("ledger_unavailable", "the payments ledger could not be written; nothing was charged");
        }
        if (!attempt.payment) return abort("already_used", "this payment authorization was already used");
      }),
    );

    server.onBeforeSettle(
      timed(async ({ transportContext }) => {
        const attempt = transportContext as PaymentAttempt;
        const { payment, sessionId } = attempt;
        if (!payment || !sessionId)
          return abort("not_recorded", "the payment was not recorded before settlement");
        try {
          if (await this.settling(payment.id, sessionId)) return;
        } catch (error) {
          attempt.ledgerError = error;
          return abort("ledger_unavailable", "the payments ledger could not be written; nothing was charged");
        }
        return abort("not_settleable", "this payment was already decided (recovered after a restart)");
      }),
    );

    server.onAfterSettle(
      timed(async ({ result, transportContext }) => {
        const { payment } = transportContext as PaymentAttempt;
        if (!payment) return;
        // Not written: the row stays `settling`, and recovery asks the chain, which has the answer.
        await this.settled(payment, result.transaction).catch((err) => {
          logger.error(
            { err, payment: payment.id, tx: result.transaction },
            "settlement not recorded; recovery will",
          );
        });
      }),
    );

    server.onSettleFailure(
      timed(async ({ error, transportContext }) => {
        const { payment } = transportContext as PaymentAttempt;
        // Only the facilitator's answer that it sent nothing says nothing moved; anything else (a timeout, a
        // transaction sent that failed to confirm) leaves the row `settling` for recovery to ask the chain.
        if (!payment || !(error instanceof SettleError) || error.transaction) return;
        const reason = error.errorMessage ?? error.errorReason ?? error.message;
        await this.failed(payment.id, reason).catch((err) => {
          logger.error({ err, payment: payment.id }, "failed settlement not recorded; recovery will");
        });
      }),
    );
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
  async settled(payment: Payment, transaction: string | null): Promise<boolean> {
    // One form per transaction platform-wide, so spent_transactions compares it with the transfer flow's.
    const txHash = transaction && (familyOf(payment.network)?.canonical(transaction) ?? transaction);
    // One statement, so one round trip and atomic: the move, and the claim of its transaction (a
    // transaction the chain cannot name, with no log of it, claims nothing).
    const result = await this.db.execute(sql`
      with moved as (
        update ${payments} set status = 'settled', tx_hash = ${txHash}::text, updated_at = now()
        where id = ${payment.id} and status = 'settling'
        returning id, network
      ), claimed as (
        insert into ${spentTransactions} (network, tx_hash, paid)
        select network, ${txHash}::text, ${paidLabel({ kind: "payment", id: payment.id })} from moved where ${txHash}::text is not null
        on conflict do nothing
      )
      select count(*)::int as moved from moved`);
    return (result as unknown as { rows: Array<{ moved: number }> }).rows[0]?.moved === 1;
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
          inArray(payments.status, [...UNFINISHED]),
          lt(payments.updatedAt, before),
          or(isNull(payments.recoveryClaimedUntil), lt(payments.recoveryClaimedUntil, now)),
        ),
      )
      .returning();
  }

  /** Gives a claimed row back, so the next run (on any instance) may work it again. */
  async unclaim(id: string): Promise<void> {
    await this.db.update(payments).set({ recoveryClaimedUntil: null }).where(eq(payments.id, id));
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

const abort = (reason: string, message: string) => ({ abort: true as const, reason, message });
