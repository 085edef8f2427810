import { sql } from "drizzle-orm";
import { boolean, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Time-based access: a wallet holding a robot until `expires_at`. A row is active while `ended_at` is
 * null; the two partial unique indexes are the locks (one robot per wallet, one wallet per robot), so
 * two purchases racing for a robot cannot both commit, whatever the number of server processes.
 */
export const accessSessions = pgTable(
  "access_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    wallet: text("wallet").notNull(),
    robotId: text("robot_id").notNull(),
    createdAt: instant("created_at").notNull(),
    expiresAt: instant("expires_at").notNull(),
    endedAt: instant("ended_at"),
    endReason: text("end_reason", { enum: ["released", "expired", "replaced", "payment_failed"] }),
    paymentTx: text("payment_tx"),
    /** Paid mode: the robot is held while the payment settles, but nobody may drive it yet. */
    pending: boolean("pending").notNull().default(false),
    /** SHA-256 of the bearer token handed to the payer; the token itself is never stored. */
    tokenHash: text("token_hash"),
    paymentId: uuid("payment_id"),
  },
  (t) => [
    uniqueIndex("access_sessions_active_robot").on(t.robotId).where(sql`${t.endedAt} is null`),
    uniqueIndex("access_sessions_active_wallet").on(t.wallet).where(sql`${t.endedAt} is null`),
    index("access_sessions_active_expiry").on(t.expiresAt).where(sql`${t.endedAt} is null`),
    uniqueIndex("access_sessions_token").on(t.tokenHash),
  ],
);

export type AccessSessionRow = typeof accessSessions.$inferSelect;

// verified → settling → settled (money moved) → granted (session live); or rejected, failed, refund_due.
export const PAYMENT_STATUSES = [
  "verified",
  "rejected",
  "settling",
  "settled",
  "granted",
  "failed",
  "refund_due",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * The ledger: every payment that reached verification, written before it settles and after. One row per
 * on-chain authorization (network + asset + nonce), so the same signed payment can never be used twice.
 */
export const payments = pgTable(
  "payments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    network: text("network").notNull(),
    scheme: text("scheme").notNull(),
    asset: text("asset").notNull(),
    payer: text("payer").notNull(),
    payTo: text("pay_to").notNull(),
    /** Base units of `asset`, as a decimal string (amounts exceed JavaScript's safe integers). */
    amount: text("amount").notNull(),
    nonce: text("nonce").notNull(),
    /** What was bought, e.g. `access:finland-tumbller-01`. */
    resource: text("resource").notNull(),
    status: text("status", { enum: PAYMENT_STATUSES }).notNull(),
    reason: text("reason"),
    txHash: text("tx_hash"),
    sessionId: uuid("session_id"),
    /** x402's payment-identifier extension: the client's id for this purchase, so a retry is not a second one. */
    paymentIdentifier: text("payment_identifier"),
    /** The signed payload, kept so an interrupted settlement can be checked on chain after a restart. */
    payload: text("payload").notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("payments_authorization").on(t.network, t.asset, t.nonce),
    index("payments_identifier").on(t.payer, t.paymentIdentifier),
    index("payments_open").on(t.status).where(sql`${t.status} in ('verified', 'settling', 'settled')`),
  ],
);

export type PaymentRow = typeof payments.$inferSelect;
