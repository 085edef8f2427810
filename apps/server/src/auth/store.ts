import { and, count, desc, eq, ilike, type SQL, sql } from "drizzle-orm";
import { type Db, isUniqueViolation } from "../db/client.ts";
import { type Role, type UserRow, users } from "../db/schema.ts";

export type User = UserRow;

export interface UserFilter {
  /** Part of the email, any case. */
  readonly q?: string;
  readonly role?: Role;
  readonly limit: number;
  readonly offset: number;
}

export type RoleChange = { ok: true; user: User } | { ok: false; reason: "not_found" | "last_admin" };

export type WalletChange = { ok: true; user: User } | { ok: false; reason: "not_found" | "wallet_taken" };

// `%` and `_` in a search are letters, not patterns.
const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The users table. Emails arrive lower-cased; the unique indexes decide duplicates. */
export class UserStore {
  constructor(private readonly db: Db) {}

  /** The new account, or undefined when the email is taken. */
  async create(input: { email: string; passwordHash: string; role: Role }): Promise<User | undefined> {
    const [user] = await this.db.insert(users).values(input).onConflictDoNothing().returning();
    return user;
  }

  async byId(id: string): Promise<User | undefined> {
    const [user] = await this.db.select().from(users).where(eq(users.id, id));
    return user;
  }

  async byEmail(email: string): Promise<User | undefined> {
    const [user] = await this.db.select().from(users).where(eq(users.email, email));
    return user;
  }

  /** Sets a password; tokens issued before it stop working (the token version moves on). */
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.db
      .update(users)
      .set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1` })
      .where(eq(users.id, id));
  }

  /**
   * Changes a role; tokens issued before it stop working, so none carries rights the account lost.
   * Taking away the last admin's role is refused; admin rows are locked first, so two admins demoting
   * each other at once cannot leave the platform with none.
   */
  setRole(id: string, role: Role): Promise<RoleChange> {
    return this.db.transaction(async (tx) => {
      const admins = await tx
        .select({ id: users.id })
        .from(users)
        .where(eq(users.role, "admin"))
        .for("update");
      const [target] = await tx.select().from(users).where(eq(users.id, id));
      if (!target) return { ok: false, reason: "not_found" };
      if (target.role === role) return { ok: true, user: target };
      if (target.role === "admin" && admins.length <= 1) return { ok: false, reason: "last_admin" };
      const [user] = await tx
        .update(users)
        .set({ role, tokenVersion: sql`${users.tokenVersion} + 1` })
        .where(eq(users.id, id))
        .returning();
      return user ? { ok: true, user } : { ok: false, reason: "not_found" };
    });
  }

  /** Links (or, with null, unlinks) a wallet; the unique index refuses one that another account holds. */
  async setWallet(id: string, walletAddress: string | null): Promise<WalletChange> {
    try {
      const [user] = await this.db.update(users).set({ walletAddress }).where(eq(users.id, id)).returning();
      return user ? { ok: true, user } : { ok: false, reason: "not_found" };
    } catch (error) {
      if (isUniqueViolation(error)) return { ok: false, reason: "wallet_taken" };
      throw error;
    }
  }

  async list(filter: UserFilter): Promise<{ users: User[]; total: number }> {
    const conditions: SQL[] = [];
    if (filter.q) conditions.push(ilike(users.email, `%${likeEscape(filter.q)}%`));
    if (filter.role) conditions.push(eq(users.role, filter.role));
    const where = and(...conditions);
    const [rows, [counted]] = await Promise.all([
      this.db
        .select()
        .from(users)
        .where(where)
        .orderBy(desc(users.createdAt), users.id)
        .limit(filter.limit)
        .offset(filter.offset),
      this.db.select({ total: count() }).from(users).where(where),
    ]);
    return { users: rows, total: counted?.total ?? 0 };
  }

  async addSpent(id: string, amount: string, db: Db = this.db): Promise<void> {
    await db
      .update(users)
      .set({ totalSpent: sql`${users.totalSpent} + ${amount}::numeric` })
      .where(eq(users.id, id));
  }
}
