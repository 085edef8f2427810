import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { robots } from "../../db/schema.ts";

/** A new device token (shown to the owner once) and the hash that is stored instead of it. */
export function newDeviceToken(): { token: string; hash: string } {
  // 32 random bytes: nobody guesses one, so the hash needs no salt or slow function.
  const token = `r4l_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashDeviceToken(token) };
}

export const hashDeviceToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** The robot a device token belongs to, as the link needs it. */
export interface LinkedRobot {
  /** Its `robot_host`: the control path's id for it. */
  readonly host: string;
  readonly suspended: boolean;
}

/** Device tokens in the robots table: only their SHA-256 is kept. */
export class DeviceTokens {
  constructor(private readonly db: Db) {}

  /** The present robot whose token hashes to `hash`, if any. */
  async robotFor(token: string): Promise<LinkedRobot | undefined> {
    const [row] = await this.db
      .select({ host: robots.host, suspendedAt: robots.suspendedAt })
      .from(robots)
      .where(and(eq(robots.deviceTokenHash, hashDeviceToken(token)), isNull(robots.deletedAt)));
    if (!row?.host) return undefined;
    return { host: row.host, suspended: row.suspendedAt !== null };
  }

  /** Gives robot `id` a new token, replacing (and so revoking) the one it had. Returns the token. */
  async rotate(id: string): Promise<string> {
    const { token, hash } = newDeviceToken();
    await this.db.update(robots).set({ deviceTokenHash: hash }).where(eq(robots.id, id));
    return token;
  }

  /** `rotate` for a robot the configuration brings (no owner), named by its host. */
  async rotateConfigured(host: string): Promise<string> {
    const { token, hash } = newDeviceToken();
    await this.db
      .update(robots)
      .set({ deviceTokenHash: hash })
      .where(and(eq(robots.host, host), isNull(robots.ownerId)));
    return token;
  }
}
