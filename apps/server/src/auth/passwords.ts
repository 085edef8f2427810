import { hash, verify } from "@node-rs/argon2";

// @node-rs/argon2's defaults are OWASP's argon2id settings (19 MiB, 2 passes, 1 lane).

/** An argon2id PHC string (salt and parameters inside), for the users table. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

let decoy: Promise<string> | undefined;

/**
 * Checks `password` against a hash of nothing: a login for an unknown email costs what a wrong password
 * costs, so the answer's timing does not tell which emails have accounts.
 */
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoy ??= hash("decoy password nobody has");
  await verify(await decoy, password);
  return false;
}
