// Over 300 lines on purpose: drizzle-kit generates the migrations from this one file, and the tables
// reference each other.
import { ROBOT_KINDS } from "@robo402/protocol";
import { sql } from "drizzle-orm";
import {
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import type { Payees } from "../payments/networks.ts";

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
    /**
     * Set while the robot does not answer: the session's clock is stopped from then on, and the sweeper
     * adds the time to `expires_at` (paid time is not spent on a robot nobody can drive).
     */
    outageSince: instant("outage_since"),
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
    /**
     * When the signed authorization can no longer land on chain (EVM `validBefore`, Solana's blockhash
     * lifetime): recovery calls an unsettled payment failed only after this.
     */
    validBefore: instant("valid_before"),
    /** One recovering instance at a time: a row is worked only by whoever set this into the future. */
    recoveryClaimedUntil: instant("recovery_claimed_until"),
    createdAt: instant("created_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (t) => [
    // EIP-3009 nonces are the signer's own (two wallets may pick the same one): the payer is in the key.
    uniqueIndex("payments_authorization").on(t.network, t.asset, t.payer, t.nonce),
    index("payments_identifier").on(t.payer, t.paymentIdentifier),
    index("payments_open").on(t.status).where(sql`${t.status} in ('verified', 'settling', 'settled')`),
  ],
);

export type PaymentRow = typeof payments.$inferSelect;

// ——— The marketplace (second plan): accounts, the robot registry, pay-per-call sessions, executions ———

const money = (name: string) => numeric(name, { precision: 20, scale: 6, mode: "string" });

export const ROLES = ["user", "robot_owner", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Stored lower-cased: one account per mailbox, whatever the capitals. */
    email: varchar("email", { length: 255 }).notNull(),
    passwordHash: varchar("password_hash", { length: 255 }).notNull(),
    role: varchar("role", { length: 50, enum: ROLES }).notNull().default("user"),
    /** Linked by a SIWE signature only (lower-case 0x address), so nobody links a wallet they do not hold. */
    walletAddress: varchar("wallet_address", { length: 255 }),
    totalSpent: money("total_spent").notNull().default("0"),
    /** Bumped on a password or role change: login tokens carry it, and an older one is refused. */
    tokenVersion: integer("token_version").notNull().default(0),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("users_email").on(t.email), uniqueIndex("users_wallet").on(t.walletAddress)],
);
export type UserRow = typeof users.$inferSelect;

export const ROBOT_STATUSES = ["active", "inactive", "maintenance"] as const;
export type RobotStatus = (typeof ROBOT_STATUSES)[number];

/**
 * The one registry: pay-per-call service robots and the Tumbllers sold by time ("drive") alike. The
 * counters are kept in the same transaction as each execution's outcome, so the listing never recomputes.
 */
export const robots = pgTable(
  "robots",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Null for the robots the platform's configuration brings (ROBOTS, simulators). */
    ownerId: uuid("owner_id").references(() => users.id),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description"),
    /** USDC per call (service robots) or per session (drive robots). */
    price: money("price").notNull(),
    currency: varchar("currency", { length: 10 }).notNull().default("USDC"),
    /** Where the robot is paid, by chain family; it is not sold on a family it names no address for. */
    payees: jsonb("payees").$type<Payees>().notNull(),
    services: jsonb("services").$type<string[]>().notNull(),
    endpoint: varchar("endpoint", { length: 500 }).notNull(),
    status: varchar("status", { length: 50, enum: ROBOT_STATUSES }).notNull().default("active"),
    /** The robot's kind (the protocol's list, a file each in robots/drivers): how it is reached, what it sells. */
    driver: varchar("driver", { length: 50, enum: ROBOT_KINDS }).notNull().default("http-service"),
    /** Drive robots: the `robot_host` of the first plan (mDNS name or IP), unique. */
    host: varchar("host", { length: 253 }),
    cameraUrl: varchar("camera_url", { length: 500 }),
    /**
     * Robots that dial in over the robot link: SHA-256 (hex) of the device token its owner was shown once.
     * Rotating it replaces the hash, so the old token stops working at once.
     */
    deviceTokenHash: varchar("device_token_hash", { length: 64 }),
    /** What the robot's kind needs beyond its addresses (a velocity robot's limits), read by that kind's file. */
    settings: jsonb("settings").$type<Record<string, unknown>>(),
    /** Set by an admin: the robot leaves the listing and its calls get 403, whatever its owner sets. */
    suspendedAt: instant("suspended_at"),
    suspendReason: text("suspend_reason"),
    /** Deleted by its owner or an admin: gone from the registry, kept for the payments that name it. */
    deletedAt: instant("deleted_at"),
    executionCount: integer("execution_count").notNull().default(0),
    successCount: integer("success_count").notNull().default(0),
    totalRevenue: money("total_revenue").notNull().default("0"),
    /** Milliseconds, averaged over every execution. */
    avgResponseTime: doublePrecision("avg_response_time").notNull().default(0),
    successRate: doublePrecision("success_rate").notNull().default(1),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("idx_robots_owner").on(t.ownerId),
    uniqueIndex("robots_host").on(t.host),
    uniqueIndex("robots_device_token").on(t.deviceTokenHash),
  ],
);
export type RobotRow = typeof robots.$inferSelect;

// pending → paid (verified on chain, or settled by x402) → completed (its execution succeeded); or expired.
export const CALL_QUOTE_STATUSES = ["pending", "paid", "completed", "expired"] as const;
export type CallQuoteStatus = (typeof CALL_QUOTE_STATUSES)[number];

/**
 * One pay-per-call purchase: the 402's quote, then the proof of payment and what it bought. The table
 * keeps the second plan's name (and its API lists these under /api/payments); in code it is a call quote,
 * because a payment here is a row of the ledger (`payments`).
 */
export const callQuotes = pgTable(
  "payment_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Null for an agent that paid with x402 and no account. */
    userId: uuid("user_id").references(() => users.id),
    robotId: uuid("robot_id")
      .notNull()
      .references(() => robots.id),
    amount: money("amount").notNull(),
    currency: varchar("currency", { length: 10 }).notNull().default("USDC"),
    /** CAIP-2 network and token contract the amount is owed in. */
    network: varchar("network", { length: 100 }).notNull(),
    asset: varchar("asset", { length: 255 }).notNull(),
    recipientAddress: varchar("recipient_address", { length: 255 }).notNull(),
    status: varchar("status", { length: 50, enum: CALL_QUOTE_STATUSES }).notNull().default("pending"),
    /** The paying transaction; unique, so one transfer never pays two sessions. */
    txSignature: varchar("tx_signature", { length: 255 }),
    payer: varchar("payer", { length: 255 }),
    service: varchar("service", { length: 100 }).notNull(),
    servicePayload: jsonb("service_payload"),
    createdAt: instant("created_at").notNull().defaultNow(),
    expiresAt: instant("expires_at").notNull(),
    paidAt: instant("paid_at"),
  },
  (t) => [
    index("idx_sessions_user").on(t.userId),
    index("idx_sessions_robot").on(t.robotId),
    index("idx_sessions_status").on(t.status),
    uniqueIndex("payment_sessions_tx").on(t.network, t.txSignature),
  ],
);
export type CallQuoteRow = typeof callQuotes.$inferSelect;

export const EXECUTION_STATUSES = ["success", "failed", "timeout"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const executionLogs = pgTable(
  "execution_logs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: uuid("session_id").references(() => callQuotes.id),
    robotId: uuid("robot_id")
      .notNull()
      .references(() => robots.id),
    userId: uuid("user_id").references(() => users.id),
    status: varchar("status", { length: 50, enum: EXECUTION_STATUSES }).notNull(),
    /** Milliseconds. */
    responseTime: doublePrecision("response_time").notNull(),
    error: text("error"),
    executedAt: instant("executed_at").notNull().defaultNow(),
  },
  (t) => [index("idx_executions_robot").on(t.robotId, t.executedAt)],
);
export type ExecutionLogRow = typeof executionLogs.$inferSelect;

/**
 * Every on-chain transaction that paid for something, whatever it paid (an x402 settlement, a drive
 * purchase, a per-call session): the primary key makes a transaction pay at most one thing, platform-wide.
 */
export const spentTransactions = pgTable(
  "spent_transactions",
  {
    network: text("network").notNull(),
    /** Canonical form: lower-case hex on EVM, base58 as is on Solana. */
    txHash: text("tx_hash").notNull(),
    /** What it paid: `payment:<ledger id>` (x402) or `session:<payment session id>` (transfer and verify). */
    paid: text("paid").notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.network, t.txHash] })],
);

/**
 * Money that reached a robot's wallet but paid nothing (a transfer without the session's memo or suffix,
 * too low, too late): kept with its sender and amount so the robot's owner or an admin can refund it.
 */
export const unmatchedTransfers = pgTable(
  "unmatched_transfers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    network: text("network").notNull(),
    txHash: text("tx_hash").notNull(),
    asset: text("asset").notNull(),
    sender: text("sender").notNull(),
    recipient: text("recipient").notNull(),
    /** Base units of `asset`, as a decimal string. */
    amount: text("amount").notNull(),
    /** The refusal's code (`unproven_payer`, `amount_too_low`, `too_old`…) and its sentence. */
    code: text("code").notNull(),
    reason: text("reason").notNull(),
    paymentSessionId: uuid("payment_session_id").references(() => callQuotes.id),
    robotId: uuid("robot_id").references(() => robots.id),
    createdAt: instant("created_at").notNull().defaultNow(),
    refundedAt: instant("refunded_at"),
    refundTx: text("refund_tx"),
  },
  (t) => [
    uniqueIndex("unmatched_transfers_tx").on(t.network, t.txHash),
    index("unmatched_transfers_robot").on(t.robotId),
  ],
);
export type UnmatchedTransferRow = typeof unmatchedTransfers.$inferSelect;

/** Secrets the platform makes for itself when none is configured, shared by every instance on the database. */
export const platformSecrets = pgTable("platform_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
});

/**
 * A stop a robot is owed: its retries ran out while the robot did not answer. Kept in the database, not only
 * in the shared cache, so that it survives a cache outage or flush and every instance can deliver it once the
 * robot answers again. The row is deleted when the robot confirms the stop.
 */
export const owedStops = pgTable("owed_stops", {
  /** The registry's robot id (its `robot_host`). */
  robotId: text("robot_id").primaryKey(),
  reason: text("reason").notNull(),
  owedAt: instant("owed_at").notNull().defaultNow(),
});
