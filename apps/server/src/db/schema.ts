import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

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
    endReason: text("end_reason", { enum: ["released", "expired", "replaced"] }),
    paymentTx: text("payment_tx"),
  },
  (t) => [
    uniqueIndex("access_sessions_active_robot").on(t.robotId).where(sql`${t.endedAt} is null`),
    uniqueIndex("access_sessions_active_wallet").on(t.wallet).where(sql`${t.endedAt} is null`),
    index("access_sessions_active_expiry").on(t.expiresAt).where(sql`${t.endedAt} is null`),
  ],
);

export type AccessSessionRow = typeof accessSessions.$inferSelect;
