import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { owedStops } from "../db/schema.ts";

/**
 * Stops a robot is owed (its retries ran out while it did not answer), kept in the database: a stop
 * must outlive a Redis flush and the process that owed it. Any instance pays it when the robot answers.
 */
export class OwedStopStore {
  constructor(private readonly db: Db) {}

  async owe(robotId: string, reason: string): Promise<void> {
    await this.db
      .insert(owedStops)
      .values({ robotId, reason })
      .onConflictDoUpdate({ target: owedStops.robotId, set: { reason } });
  }

  async paid(robotId: string): Promise<void> {
    await this.db.delete(owedStops).where(eq(owedStops.robotId, robotId));
  }

  async reason(robotId: string): Promise<string | null> {
    const [row] = await this.db
      .select({ reason: owedStops.reason })
      .from(owedStops)
      .where(eq(owedStops.robotId, robotId));
    return row?.reason ?? null;
  }

  async list(): Promise<{ robotId: string; reason: string }[]> {
    return this.db.select({ robotId: owedStops.robotId, reason: owedStops.reason }).from(owedStops);
  }
}
