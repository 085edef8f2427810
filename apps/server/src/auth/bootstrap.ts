import { hashPassword } from "./passwords.ts";
import type { User, UserStore } from "./store.ts";

export class NoSuchAccountError extends Error {
  constructor(readonly email: string) {
    super(`No account with email ${email}.`);
    this.name = "NoSuchAccountError";
  }
}

/**
 * ADMIN_EMAIL names an account the bootstrap did not make: anyone may register any email, so promoting
 * it would hand the platform to whoever signed up under that address first.
 */
export class AdminEmailTakenError extends Error {
  constructor(readonly email: string) {
    super(
      `ADMIN_EMAIL ${email} belongs to an existing account that is not an admin; it was not promoted and no admin was created. ` +
        `If that account is yours, make it an admin with: npm run admin -- create ${email} (which also sets its password); otherwise choose another ADMIN_EMAIL.`,
    );
    this.name = "AdminEmailTakenError";
  }
}

/**
 * The first admin, at start (ADMIN_EMAIL/ADMIN_PASSWORD): created if the email is free, left as it is if
 * it is already an admin (its password too: `npm run admin -- create` resets it). An account that is not
 * an admin is never promoted: AdminEmailTakenError.
 */
export async function bootstrapAdmin(users: UserStore, email: string, password: string): Promise<User> {
  const address = email.trim().toLowerCase();
  const account =
    (await users.byEmail(address)) ??
    (await users.create({ email: address, passwordHash: await hashPassword(password), role: "admin" })) ??
    // Taken between the look and the insert: by another instance's bootstrap, or by a sign-up.
    (await users.byEmail(address));
  // Nobody can make themselves an admin, so an admin here is this bootstrap's (or an operator's) work.
  if (account?.role !== "admin") throw new AdminEmailTakenError(address);
  return account;
}

/**
 * An operator's explicit `npm run admin -- create`: makes `email` an admin who logs in with `password`,
 * a new account or an existing one promoted and given this password.
 */
export async function ensureAdmin(users: UserStore, email: string, password: string): Promise<User> {
  const address = email.trim().toLowerCase();
  const passwordHash = await hashPassword(password);
  const created = await users.create({ email: address, passwordHash, role: "admin" });
  if (created) return created;
  const existing = await users.byEmail(address);
  if (!existing) throw new NoSuchAccountError(address);
  await users.setPassword(existing.id, passwordHash);
  return promote(users, existing);
}

/** Makes an existing account an admin, password unchanged. */
export async function promoteToAdmin(users: UserStore, email: string): Promise<User> {
  const address = email.trim().toLowerCase();
  const existing = await users.byEmail(address);
  if (!existing) throw new NoSuchAccountError(address);
  return promote(users, existing);
}

async function promote(users: UserStore, user: User): Promise<User> {
  const change = await users.setRole(user.id, "admin");
  if (!change.ok) throw new NoSuchAccountError(user.email);
  return change.user;
}
