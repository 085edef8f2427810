import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { platformSecrets } from "../db/schema.ts";

const JWT_SECRET = "jwt_secret";

/**
 * The configured JWT secret, or the one kept in the database: made by whichever instance gets there
 * first and read back by all, so restarts and every instance on the database sign alike.
 */
export async function jwtSecret(db: Db, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await db
    .insert(platformSecrets)
    .values({ name: JWT_SECRET, value: randomBytes(48).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db.select().from(platformSecrets).where(eq(platformSecrets.name, JWT_SECRET));
  if (!row) throw new Error("platform_secrets lost the JWT secret it was just given");
  return row.value;
}
