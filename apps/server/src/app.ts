import { OpenAPIHono } from "@hono/zod-openapi";
import { HealthResponse } from "@robo402/protocol";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import { SessionCache } from "./access/cache.ts";
import { paidAuth, walletHeaderAuth } from "./access/identity.ts";
import { freePurchase, paidPurchase, recoverPurchases } from "./access/purchase.ts";
import { accessRoutes } from "./access/routes.ts";
import { AccessService } from "./access/service.ts";
import { AccessStore } from "./access/store.ts";
import type { Config } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { errorHandler, HttpError } from "./http/errors.ts";
import { openKv } from "./kv/index.ts";
import { PaymentGate } from "./payments/gate.ts";
import { PaymentLedger } from "./payments/ledger.ts";
import { openPaymentNetwork, type PaymentNetwork } from "./payments/networks.ts";
import { PaymentService } from "./payments/service.ts";
import { tumbllerDriver } from "./robots/drivers/tumbller.ts";
import { MotionGuard } from "./robots/motion.ts";
import { parseRobots, type RobotEntry, RobotRegistry, readRobotsFile } from "./robots/registry.ts";
import { LocalNameResolver } from "./robots/resolver.ts";
import { robotListRoutes, robotRoutes } from "./robots/routes.ts";
import { RobotService } from "./robots/service.ts";
import { startSimulatedRobots } from "./robots/simulated.ts";

// The API takes small JSON bodies only; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES = 64 * 1024;

export interface Platform {
  readonly app: OpenAPIHono;
  readonly access: AccessService;
  readonly robots: RobotService;
  readonly database: Database;
  /** Paid mode's chain and price; undefined in free mode. */
  readonly network: PaymentNetwork | undefined;
  close(): Promise<void>;
}

// How often interrupted purchases are looked for (besides at start).
const RECOVERY_INTERVAL_MS = 60_000;

/** Wires the platform from its configuration. The only place that chooses implementations. */
export async function createPlatform(config: Config, logger: Logger): Promise<Platform> {
  const simulated = await startSimulatedRobots(config.SIMULATED_ROBOTS);
  const closers: Array<() => Promise<unknown>> = [
    () => Promise.all(simulated.sims.map((sim) => sim.close())),
  ];
  const close = async () => {
    for (const closer of closers.reverse())
      await closer().catch((err) => logger.error({ err }, "shutdown step failed"));
  };

  try {
    const configured: RobotEntry[] = [
      ...parseRobots(config.ROBOTS, "ROBOTS"),
      ...(config.ROBOTS_FILE ? readRobotsFile(config.ROBOTS_FILE) : []),
    ];
    const registry = new RobotRegistry([...simulated.entries, ...configured]);

    const database = await openDatabase(
      config.DATABASE_URL
        ? { kind: "postgres", url: config.DATABASE_URL }
        : { kind: "pglite", dataDir: `${config.DATA_DIR}/pglite` },
      (err) => logger.warn({ err }, "database connection lost; the pool will reconnect"),
    );
    closers.push(() => database.close());
    const kv = await openKv(config.REDIS_URL, config.REDIS_PREFIX);
    closers.push(() => kv.close());

    const resolver = new LocalNameResolver();
    const motion = new MotionGuard(kv, logger, {
      deadmanMs: config.DEADMAN_MS,
      stopAttempts: config.STOP_RETRY_ATTEMPTS,
      stopMaxDelayMs: config.STOP_RETRY_MAX_DELAY_MS,
    });
    closers.push(() => motion.close());
    const robots = new RobotService(
      registry,
      (entry) =>
        tumbllerDriver(entry, {
          resolver,
          timeoutMs: config.ROBOT_TIMEOUT_MS,
          cameraTimeoutMs: config.CAMERA_TIMEOUT_MS,
        }),
      motion,
      { intervalMs: config.CAMERA_INTERVAL_MS, timeoutMs: config.CAMERA_TIMEOUT_MS, idleMs: 5000 },
      logger,
    );
    closers.push(async () => robots.close());
    const access = new AccessService(
      new AccessStore(database.db),
      new SessionCache(kv),
      robots,
      { sessionMinutes: config.SESSION_DURATION_MINUTES, sweepMs: config.SESSION_SWEEP_MS },
      logger,
    );

    const network = config.PAYMENT_ENABLED ? await openPaymentNetwork(config) : undefined;
    if (network?.devchain) closers.push(() => network.devchain?.close() ?? Promise.resolve());
    const payments =
      network &&
      new PaymentService(
        new PaymentGate(network, config.SESSION_DURATION_MINUTES),
        new PaymentLedger(database.db),
        logger,
      );
    const auth = payments ? paidAuth(access, { kv, publicUrl: config.PUBLIC_URL }) : walletHeaderAuth(access);
    const buy = payments
      ? paidPurchase(access, payments, robots, logger, config.ROBO402_CRASH_AFTER)
      : freePurchase(access);

    if (payments) {
      const recover = () =>
        recoverPurchases(access, payments, config.PAYMENT_RECOVERY_GRACE_MS, logger).catch((err) =>
          logger.error({ err }, "payment recovery failed; will retry"),
        );
      await recover();
      const timer = setInterval(recover, RECOVERY_INTERVAL_MS);
      closers.push(async () => clearInterval(timer));
    }
    access.startSweeper();
    closers.push(() => access.close());

    const app = new OpenAPIHono();
    app.onError(errorHandler(logger));
    app.notFound((c) => c.json({ detail: "Not Found" }, 404));
    app.use(secureHeaders());
    app.use(cors({ origin: config.CORS_ORIGINS, credentials: true }));
    app.use(
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: () => {
          throw new HttpError(413, `Request body too large (limit ${MAX_BODY_BYTES} bytes).`);
        },
      }),
    );
    app.get("/health", (c) =>
      c.json(HealthResponse.parse({ status: "healthy", payment_enabled: config.PAYMENT_ENABLED })),
    );
    app.route(
      "/api/v1/access",
      accessRoutes(access, auth, buy, {
        network: network?.id ?? null,
        payTo: network?.payTo ?? null,
        paymentEnabled: config.PAYMENT_ENABLED,
        sessionMinutes: config.SESSION_DURATION_MINUTES,
        sessionPrice: config.SESSION_PRICE,
      }),
    );
    app.route("/api/v1/robot", robotRoutes(robots, access, auth));
    app.route("/api/v1/robots", robotListRoutes(robots, access));
    app.doc31("/openapi.json", {
      openapi: "3.1.0",
      info: { title: "robo402", version: "0.1.0", description: "Pay robots over HTTP 402" },
    });

    return { app, access, robots, database, network, close };
  } catch (error) {
    await close();
    throw error;
  }
}
