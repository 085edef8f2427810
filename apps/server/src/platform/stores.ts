import { randomUUID } from "node:crypto";
import type { Config } from "../config.ts";
import { type Database, openDatabase } from "../db/client.ts";
import type { ReadinessCheck } from "../http/health.ts";
import { type Kv, openKv, openPubSub, type PubSub } from "../kv/index.ts";
import type { Wiring } from "./shutdown.ts";

export interface Stores {
  readonly database: Database;
  readonly kv: Kv;
  readonly pubsub: PubSub;
  /** This process among the instances sharing the stores. */
  readonly instance: string;
  readonly readiness: Record<string, ReadinessCheck>;
}

/** The database (PostgreSQL, else PGlite in DATA_DIR) and the Kv and pub/sub (Redis, else in-process). */
export async function openStores(
  config: Pick<Config, "DATABASE_URL" | "DATA_DIR" | "REDIS_URL" | "REDIS_PREFIX">,
  { logger, shutdown }: Wiring,
): Promise<Stores> {
  const database = await openDatabase(
    config.DATABASE_URL
      ? { kind: "postgres", url: config.DATABASE_URL }
      : { kind: "pglite", dataDir: `${config.DATA_DIR}/pglite` },
    (err) => logger.warn({ err }, "database connection lost; the pool will reconnect"),
  );
  shutdown.add(() => database.close());
  const redisDown = (err: Error) =>
    logger.warn({ err: err.message }, "Redis unreachable; reconnecting (requests that need it get 503)");
  const kv = await openKv(config.REDIS_URL, config.REDIS_PREFIX, redisDown);
  shutdown.add(() => kv.close());

  const pubsub = await openPubSub(config.REDIS_URL, config.REDIS_PREFIX, redisDown);
  shutdown.add(() => pubsub.close());

  const readiness: Record<string, ReadinessCheck> = { database: () => database.ping() };
  if (config.REDIS_URL) readiness.redis = () => kv.ping();
  return { database, kv, pubsub, instance: randomUUID(), readiness };
}
