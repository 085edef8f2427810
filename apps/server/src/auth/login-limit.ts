import { createHash } from "node:crypto";
import type { Context } from "hono";

/**
 * The account a login tries, so a limit per account holds however many addresses the attempts come
 * from (credential stuffing): the body's email as login compares it (trimmed, lower case), hashed so the
 * shared store keeps no addresses. Undefined when the body names none; the route then answers 422.
 */
export async function triedEmail(c: Context): Promise<string | undefined> {
  // Hono keeps the body, so the route's own validation reads it again.
  const body: unknown = await c.req.json().catch(() => undefined);
  const email = typeof body === "object" && body !== null && "email" in body ? body.email : undefined;
  if (typeof email !== "string") return undefined;
  return createHash("sha256").update(email.trim().toLowerCase()).digest("base64url");
}
