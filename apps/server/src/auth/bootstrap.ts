import { hashPassword } from "./passwords.ts";
import type { User, UserStore } from "./store.ts";

export class NoSuchAccountError extends Error {
  constructor(readonly email: string) {
    super(`No account with email ${email}.`);
    this.name = "NoSuchAccountError";
  }
}

/**
 * Makes `email` an admin who logs in with `password`: a new account, or an existing one promoted and
 * given this password (so whoever sets ADMIN_PASSWORD can always get in).
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
