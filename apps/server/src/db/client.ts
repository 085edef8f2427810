import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { lockPgliteDir } from "./pglite-lock.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** One type for both engines: services never know whether they run on PGlite or PostgreSQL. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  readonly db: Db;
  readonly engine: "pglite" | "postgres";
  /** Resolves when the database answers a query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const ping = (db: Db) => async () => {
  await db.execute(sql`select 1`);
};

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string }
  | { kind: "memory" };

const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));
// Any fixed number: it names the advisory lock that keeps two starting servers from migrating at once.
const MIGRATION_LOCK = 402_0402;

/** `onError` hears what a pooled connection reports while idle (a server restart, an admin's kill). */
export async function openDatabase(
  target: DatabaseTarget,
  onError: (error: Error) => void = () => {},
): Promise<Database> {
  if (target.kind === "postgres") return openPostgres(target.url, onError);
  if (target.kind === "memory") return openPglite(new PGlite(), () => {});
  mkdirSync(target.dataDir, { recursive: true });
  // Before PGlite touches the files: a second process on them would lose one's writes.
  const lock = lockPgliteDir(target.dataDir);
  const client = new PGlite(target.dataDir);
  try {
    return await openPglite(client, lock.release);
  } catch (error) {
    // The files are let go only once nothing of this process writes them.
    await client.close().catch(() => {});
    lock.release();
    throw error;
  }
}

async function openPglite(client: PGlite, release: () => void): Promise<Database> {
  const db = drizzlePglite({ client, schema });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    engine: "pglite",
    ping: ping(db as unknown as Db),
    close: async () => {
      await client.close();
      release();
    },
  };
}

async function openPostgres(url: string, onError: (error: Error) => void): Promise<Database> {
  const migrator = new pg.Client({ connectionString: url });
  await migrator.connect();
  try {
    await migrator.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await migratePg(drizzlePg({ client: migrator, schema }), { migrationsFolder });
  } finally {
    await migrator.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Without a listener, one dropped idle connection would take the whole process down.
  pool.on("error", onError);
  const db = drizzlePg({ client: pool, schema });
  return {
    db: db as unknown as Db,
    engine: "postgres",
    ping: ping(db as unknown as Db),
    close: () => pool.end(),
  };
}

/** True when `error` (or what drizzle wrapped) is PostgreSQL's unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
