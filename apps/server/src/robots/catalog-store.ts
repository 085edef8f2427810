import { and, arrayContains, eq, inArray, isNotNull, isNull, not, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type RobotRow, robots } from "../db/schema.ts";
import type { FamilyId } from "../payments/families/index.ts";

export type CatalogRobot = RobotRow;
export type NewCatalogRobot = typeof robots.$inferInsert;

export interface CatalogFilter {
  readonly service?: string;
  readonly ownerId?: string;
  /** Suspended and non-active robots too (an owner's own list, an admin's). */
  readonly includeHidden?: boolean;
}

/** Changes to where a robot is paid, by chain family: a new address there, or null to stop being paid there. */
export type PayeeChanges = { readonly [family in FamilyId]?: string | null };

/** One execution's effect on its robot's counters. */
export interface ExecutionTally {
  readonly success: boolean;
  readonly responseTimeMs: number;
  /** USDC earned (decimal string); "0" when the execution was not charged. */
  readonly revenue: string;
}

const present = isNull(robots.deletedAt);

/** The robots table: the one registry of service robots and drive robots. */
export class CatalogStore {
  constructor(private readonly db: Db) {}

  async insert(robot: NewCatalogRobot): Promise<CatalogRobot> {
    const [row] = await this.db.insert(robots).values(robot).returning();
    if (!row) throw new Error("insert returned no robot");
    return row;
  }

  async update(
    id: string,
    patch: Partial<NewCatalogRobot>,
    payees: PayeeChanges = {},
  ): Promise<CatalogRobot | undefined> {
    const [row] = await this.db
      .update(robots)
      .set({ ...patch, ...mergedPayees(payees) })
      .where(and(eq(robots.id, id), present))
      .returning();
    return row;
  }

  async get(id: string): Promise<CatalogRobot | undefined> {
    const [row] = await this.db
      .select()
      .from(robots)
      .where(and(eq(robots.id, id), present));
    return row;
  }

  list(filter: CatalogFilter): Promise<CatalogRobot[]> {
    const conditions: SQL[] = [present];
    if (filter.service) conditions.push(arrayContains(robots.services, [filter.service]));
    if (filter.ownerId) conditions.push(eq(robots.ownerId, filter.ownerId));
    if (!filter.includeHidden) {
      conditions.push(isNull(robots.suspendedAt), eq(robots.status, "active"));
    }
    return this.db
      .select()
      .from(robots)
      .where(and(...conditions))
      .orderBy(robots.createdAt, robots.id);
  }

  /** Every robot sold by time, as the control path's registry needs them. */
  driveRobots(): Promise<CatalogRobot[]> {
    return this.db
      .select()
      .from(robots)
      .where(and(present, isNotNull(robots.host)));
  }

  /**
   * The robots the configuration brings, kept in step with it on every start: addresses, price and payee
   * follow the configuration; a host an owner registered is left to its owner.
   */
  async upsertConfigured(robot: NewCatalogRobot & { host: string }): Promise<void> {
    await this.db
      .insert(robots)
      .values(robot)
      .onConflictDoUpdate({
        target: robots.host,
        set: {
          endpoint: robot.endpoint,
          cameraUrl: robot.cameraUrl,
          price: robot.price,
          payees: robot.payees,
          services: robot.services,
          deletedAt: null,
        },
        setWhere: isNull(robots.ownerId),
      });
  }

  /** Simulated and configured service robots have fixed ids, so a restart updates them in place. */
  async upsertById(robot: NewCatalogRobot & { id: string }): Promise<void> {
    await this.db
      .insert(robots)
      .values(robot)
      .onConflictDoUpdate({
        target: robots.id,
        set: {
          endpoint: robot.endpoint,
          price: robot.price,
          payees: robot.payees,
          services: robot.services,
          description: robot.description,
          deletedAt: null,
        },
      });
  }

  /** Deletes the configuration's robots it no longer names (an owner's robots are never touched). */
  async retireUnconfigured(keepHosts: string[], keepIds: string[]): Promise<void> {
    const keep = [
      keepHosts.length ? inArray(robots.host, keepHosts) : undefined,
      keepIds.length ? inArray(robots.id, keepIds) : undefined,
    ].filter((condition) => condition !== undefined);
    await this.db
      .update(robots)
      .set({ deletedAt: new Date() })
      .where(and(present, isNull(robots.ownerId), keep.length ? not(or(...keep) as SQL) : undefined));
  }

  /** Adds one execution to the robot's counters, inside the caller's transaction. */
  async tally(robotId: string, tally: ExecutionTally, db: Db = this.db): Promise<void> {
    const success = tally.success ? 1 : 0;
    await db
      .update(robots)
      .set({
        executionCount: sql`${robots.executionCount} + 1`,
        successCount: sql`${robots.successCount} + ${success}`,
        successRate: sql`(${robots.successCount} + ${success})::float8 / (${robots.executionCount} + 1)`,
        avgResponseTime: sql`(${robots.avgResponseTime} * ${robots.executionCount} + ${tally.responseTimeMs}) / (${robots.executionCount} + 1)`,
        totalRevenue: sql`${robots.totalRevenue} + ${tally.revenue}::numeric`,
      })
      .where(eq(robots.id, robotId));
  }
}

/**
 * The payee changes as one update of the map, merged in the statement: changing one family's address never
 * undoes a concurrent change of another's (each had a column of its own before).
 */
function mergedPayees(changes: PayeeChanges): { payees: SQL } | undefined {
  const entries = Object.entries(changes);
  if (entries.length === 0) return undefined;
  const set = Object.fromEntries(entries.filter(([, address]) => address !== null));
  let merged = sql`${robots.payees} || ${JSON.stringify(set)}::jsonb`;
  for (const [family, address] of entries) if (address === null) merged = sql`(${merged}) - ${family}::text`;
  return { payees: merged };
}
