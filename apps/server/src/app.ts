import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import type { AccessService } from "./access/service.ts";
import { SignInOrigins } from "./auth/origins.ts";
import { type Config, signInOrigins } from "./config.ts";
import type { Database } from "./db/client.ts";
import { Metrics } from "./http/metrics.ts";
import type { PaymentNetwork } from "./payments/networks.ts";
import { wireCatalog } from "./platform/catalog.ts";
import { httpApp } from "./platform/http.ts";
import { startPaymentSessionExpiry, startRecovery } from "./platform/jobs.ts";
import { wireMarketplace } from "./platform/marketplace.ts";
import { purchasePath, wirePayments } from "./platform/payments.ts";
import { configuredRobots, wireRobots } from "./platform/robots.ts";
import { Shutdown } from "./platform/shutdown.ts";
import type { Simulation } from "./platform/simulation.ts";
import { openStores } from "./platform/stores.ts";
import { ControlledRobots } from "./robots/controlled.ts";
import type { RobotGateway } from "./robots/gateway.ts";

export interface Platform {
  readonly app: OpenAPIHono;
  readonly access: AccessService;
  readonly robots: RobotGateway;
  readonly database: Database;
  /** Paid mode's primary chain and price; undefined in free mode. */
  readonly network: PaymentNetwork | undefined;
  /** Every chain payments are taken on (the primary first); empty in free mode. */
  readonly networks: readonly PaymentNetwork[];
  /** Starts the simulation's robots that dial in (SIMULATED_LINK_ROBOTS), to the platform listening at `url`. */
  linkSimulated(url: string): Promise<void>;
  /** Works the payments a crash or a lost settlement answer left unfinished now (it also runs every minute). */
  recoverPayments(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires the platform from its configuration: the only place that chooses implementations. It owns
 * `simulation` (dev/'s robots, in development): they are stopped last, and on a failed start too.
 */
export async function createPlatform(
  config: Config,
  logger: Logger,
  simulation?: Simulation,
): Promise<Platform> {
  const shutdown = new Shutdown(logger);
  const wiring = { logger, shutdown };
  if (simulation) shutdown.add(() => simulation.close());
  const close = () => shutdown.run();
  try {
    const configured = configuredRobots(config);
    const controlled = new ControlledRobots([...(simulation?.robots ?? []), ...configured]);
    const stores = await openStores(config, wiring);
    // Read at scrape time, when everything below exists.
    const metrics: Metrics = new Metrics({
      paymentsByStatus: () => payments.ledger.countByStatus(),
      activeSessions: () => control.access.activeCount(),
      robotHealth: () =>
        Promise.all(
          control.robots.list().map(async (entry) => ({
            robot: entry.id,
            motor: (await control.robots.info(entry)) !== null,
            camera: control.robots.cameraSeen(entry),
          })),
        ),
    });
    const control = await wireRobots(config, controlled, stores, metrics.countStop, wiring);
    const { access, robots } = control;
    const payments = await wirePayments(config, stores.database.db, metrics.countRefusal, wiring);
    const { catalog, enrol } = await wireCatalog(stores, control, payments, configured, simulation, wiring);
    // Sign-ins are bound to the configured origins, never to the Host a request claims.
    const origins = new SignInOrigins(signInOrigins(config));
    const purchase = purchasePath(config, control, payments, { kv: stores.kv, origins }, logger);
    const recoverPayments = await startRecovery(config.PAYMENT_RECOVERY_GRACE_MS, access, payments, wiring);
    access.startSweeper();
    shutdown.add(() => access.close());
    const market = await wireMarketplace(config, stores, control, payments, catalog, origins, wiring);
    startPaymentSessionExpiry(market.executions, wiring);
    const app = httpApp(config, { stores, metrics, control, payments, purchase, catalog, market }, logger);

    const linkSimulated = async (url: string) => {
      const stop = await simulation?.dialIn(url, enrol);
      if (stop) shutdown.add(stop);
    };
    const { database } = stores;
    const { network, networks } = payments;
    return { app, linkSimulated, access, robots, database, network, networks, recoverPayments, close };
  } catch (error) {
    await close();
    throw error;
  }
}
