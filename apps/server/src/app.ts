import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import { HealthResponse } from "@robo402/protocol";
import { secureHeaders } from "hono/secure-headers";
import { timing } from "hono/timing";
import type { Logger } from "pino";
import { Agent } from "undici";
import { SessionCache } from "./access/cache.ts";
import { paidAuth, walletHeaderAuth } from "./access/identity.ts";
import { freePurchase, isPurchase, paidPurchase, recoverPurchase } from "./access/purchase.ts";
import { accessRoutes } from "./access/routes.ts";
import { AccessService } from "./access/service.ts";
import { AccessStore } from "./access/store.ts";
import { adminRobotRoutes } from "./admin/robots.ts";
import { adminUserRoutes } from "./admin/users.ts";
import { AdminEmailTakenError } from "./auth/bootstrap.ts";
import { triedEmail } from "./auth/login-limit.ts";
import { authenticate, requireRole } from "./auth/middleware.ts";
import { SignInOrigins } from "./auth/origins.ts";
import { authRoutes } from "./auth/routes.ts";
import { AuthService } from "./auth/service.ts";
import { type Config, signInOrigins } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { executeService } from "./execute/executor.ts";
import { paymentJson } from "./execute/json.ts";
import { listingRoutes } from "./execute/listing.ts";
import { freeCall, paidCall } from "./execute/paid-call.ts";
import { ExecutionRecorder } from "./execute/record.ts";
import { executeRoutes } from "./execute/routes.ts";
import { ExecuteService } from "./execute/service.ts";
import { SessionCalls } from "./execute/session-call.ts";
import type { CallQuote } from "./execute/store.ts";
import { ExecuteStore } from "./execute/store.ts";
import { TransferPayments } from "./execute/transfer-verify.ts";
import { bodyLimit } from "./http/body-limit.ts";
import { cors } from "./http/cors.ts";
import { docsRoutes } from "./http/docs.ts";
import { errorHandler } from "./http/errors.ts";
import { healthRoutes, type ReadinessCheck } from "./http/health.ts";
import { Metrics } from "./http/metrics.ts";
import { clientIp, type RateLimitOptions, rateLimit } from "./http/rate-limit.ts";
import { requestContext } from "./http/request-context.ts";
import { WEB_DIST, webRoutes } from "./http/web.ts";
import { openKv, openPubSub } from "./kv/index.ts";
import { FAMILIES } from "./payments/families/index.ts";
import { PaymentLedger } from "./payments/ledger.ts";
import { openPaymentNetworks, type Payees, type PaymentNetwork, payeesOr } from "./payments/networks.ts";
import { PaymentRecovery } from "./payments/recovery.ts";
import { SpentTransactions } from "./payments/spent.ts";
import { UnmatchedTransfers } from "./payments/unmatched.ts";
import { adminUnmatchedRoutes, unmatchedRoutes } from "./payments/unmatched-routes.ts";
import { termsOn, X402Payments } from "./payments/x402.ts";
import { SessionEvents } from "./realtime/events.ts";
import { sessionSocketRoutes } from "./realtime/routes.ts";
import { BREAKER_TIMING } from "./robots/breaker.ts";
import { RobotCatalog } from "./robots/catalog.ts";
import { catalogRoutes } from "./robots/catalog-routes.ts";
import { CatalogStore } from "./robots/catalog-store.ts";
import { buildDriver } from "./robots/drivers/index.ts";
import { addressGuard, checkRobotUrl, dispatcherThrough } from "./robots/endpoint-guard.ts";
import { LinkHub } from "./robots/link/hub.ts";
import { deviceTokenRoutes, linkRoutes } from "./robots/link/routes.ts";
import { startLinkedSimulators } from "./robots/link/simulated.ts";
import { DeviceTokens } from "./robots/link/tokens.ts";
import { MotionGuard } from "./robots/motion.ts";
import { OwedStopStore } from "./robots/owed-stops.ts";
import { parseRobots, type RobotEntry, RobotRegistry, readRobotsFile } from "./robots/registry.ts";
import { LocalNameResolver } from "./robots/resolver.ts";
import { robotListRoutes, robotRoutes } from "./robots/routes.ts";
import { RobotService } from "./robots/service.ts";
import { startSimulatedRobots, startSimulatedRovers, startSimulatedServices } from "./robots/simulated.ts";

// The API takes small JSON bodies only; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES = 64 * 1024;

export interface Platform {
  readonly app: OpenAPIHono;
  readonly access: AccessService;
  readonly robots: RobotService;
  readonly database: Database;
  /** Paid mode's primary chain and price; undefined in free mode. */
  readonly network: PaymentNetwork | undefined;
  /** Every chain payments are taken on (the primary first); empty in free mode. */
  readonly networks: readonly PaymentNetwork[];
  /** Starts the simulated robots that dial in (SIMULATED_LINK_ROBOTS), to the platform listening at `url`. */
  linkSimulated(url: string): Promise<void>;
  /** Works the payments a crash or a lost settlement answer left unfinished now (it also runs every minute). */
  recoverPayments(): Promise<void>;
  close(): Promise<void>;
}

// How often interrupted purchases are looked for (besides at start).
const RECOVERY_INTERVAL_MS = 60_000;
// How often lapsed payment sessions are expired (and their watchers told).
const PAYMENT_SESSION_SWEEP_MS = 5_000;
// Where instances tell each other that the robot catalog changed.
const CATALOG_CHANNEL = "robots:changed";
// A browser client reads these from a 402 or a paid answer (the plan's headers and x402's).
const EXPOSED_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "X-PAYMENT-RESPONSE",
  "X-Payment-Required",
  "X-Payment-Amount",
  "X-Payment-Currency",
  "X-Payment-Network",
  "X-Payment-Address",
  "X-Session-ID",
  "X-Payment-Memo",
  "Retry-After",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
];

const RPC_BLOCK_NUMBER = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });

/** Resolves when `url` answers 2xx (a readiness check). */
async function answers(url: string, init: RequestInit = {}): Promise<void> {
  const response = await fetch(url, {
    ...init,
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(2000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`answered ${response.status}`);
}

function recentPayment(session: CallQuote) {
  const { id, amount, currency, payer, tx_signature, service, status, paid_at } = paymentJson(session);
  return { session_id: id, amount, currency, payer, tx_signature, service, status, paid_at };
}

/** Wires the platform from its configuration. The only place that chooses implementations. */
export async function createPlatform(config: Config, logger: Logger): Promise<Platform> {
  const simulated = await startSimulatedRobots(config.SIMULATED_ROBOTS);
  const rovers = await startSimulatedRovers(config.SIMULATED_VELOCITY_ROBOTS);
  const closers: Array<() => Promise<unknown>> = [
    () => Promise.all(simulated.sims.map((sim) => sim.close())),
    rovers.close,
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
    const registry = new RobotRegistry([...simulated.entries, ...rovers.entries, ...configured]);

    const database = await openDatabase(
      config.DATABASE_URL
        ? { kind: "postgres", url: config.DATABASE_URL }
        : { kind: "pglite", dataDir: `${config.DATA_DIR}/pglite` },
      (err) => logger.warn({ err }, "database connection lost; the pool will reconnect"),
    );
    closers.push(() => database.close());
    const redisDown = (err: Error) =>
      logger.warn({ err: err.message }, "Redis unreachable; reconnecting (requests that need it get 503)");
    const kv = await openKv(config.REDIS_URL, config.REDIS_PREFIX, redisDown);
    closers.push(() => kv.close());

    const pubsub = await openPubSub(config.REDIS_URL, config.REDIS_PREFIX, redisDown);
    closers.push(() => pubsub.close());
    const instance = randomUUID();

    // Read at scrape time, when everything below exists.
    const metrics: Metrics = new Metrics({
      paymentsByStatus: () => ledger.countByStatus(),
      activeSessions: () => access.activeCount(),
      robotHealth: () =>
        Promise.all(
          robots.list().map(async (entry) => ({
            robot: entry.id,
            motor: (await robots.info(entry)) !== null,
            camera: robots.cameraSeen(entry),
          })),
        ),
    });
    const resolver = new LocalNameResolver();
    // Every request to an owner's robot (drive or service) connects through the address guard.
    const ownersGuard = addressGuard({ allowedNetworks: config.ROBOT_NETWORKS_ALLOWED });
    const ownersDispatcher = dispatcherThrough(ownersGuard);
    closers.push(() => ownersDispatcher.close());
    // Robots behind their owners' routers dial in; whichever instance holds a link serves it to the others.
    const links = new LinkHub(kv, pubsub, instance, config.DEADMAN_MS, logger);
    await links.start();
    closers.push(() => links.close());
    const motion = new MotionGuard(kv, new OwedStopStore(database.db), logger, {
      deadmanMs: config.DEADMAN_MS,
      stopAttempts: config.STOP_RETRY_ATTEMPTS,
      stopMaxDelayMs: config.STOP_RETRY_MAX_DELAY_MS,
      onStop: metrics.countStop,
    });
    closers.push(() => motion.close());
    const robots = new RobotService(
      registry,
      (entry) =>
        buildDriver(entry, {
          resolver,
          timeoutMs: config.ROBOT_TIMEOUT_MS,
          cameraTimeoutMs: config.CAMERA_TIMEOUT_MS,
          ownersGuard,
          links,
        }),
      motion,
      { intervalMs: config.CAMERA_INTERVAL_MS, timeoutMs: config.CAMERA_TIMEOUT_MS, idleMs: 5000 },
      { ...BREAKER_TIMING, waitMs: config.ROBOT_TIMEOUT_MS },
      { kv, pubsub, instance },
      logger,
    );
    closers.push(() => robots.close());
    // A link going down or up is the robot's outage beginning or ending: asking it through its breaker now
    // pauses (or resumes) its session's clock at once, instead of at the next command.
    const probeLinked = (robotId: string) => {
      const entry = robots.lookup(robotId);
      if (entry) void robots.probe(entry);
    };
    links.on("down", probeLinked);
    links.on("up", probeLinked);
    const access = new AccessService(
      new AccessStore(database.db),
      new SessionCache(kv),
      robots,
      {
        sessionMinutes: config.SESSION_DURATION_MINUTES,
        sweepMs: config.SESSION_SWEEP_MS,
        heartbeatMs: config.ROBOT_HEARTBEAT_MS,
      },
      logger,
    );

    const networks = config.PAYMENT_ENABLED ? await openPaymentNetworks(config) : [];
    const [network] = networks;
    for (const { devchain } of networks) if (devchain) closers.push(() => devchain.close());
    const ledger = new PaymentLedger(database.db);
    const payments = network && new X402Payments(networks, ledger, logger, metrics.countRefusal);
    // Where money goes when a robot came from configuration: PAYMENT_ADDRESS (SOLANA_PAYMENT_ADDRESS), or
    // the local chains' payees. A robot's EVM wallet is required even where only Solana is accepted.
    const platformPayees: Payees = {};
    for (const accepted of networks) platformPayees[accepted.family] ??= accepted.payTo;
    const configuredPayees: Payees = { ...platformPayees, evm: platformPayees.evm ?? config.PAYMENT_ADDRESS };

    // One registry: the catalog's drive robots are what the control path sells, on every instance.
    const catalog = new RobotCatalog(
      new CatalogStore(database.db),
      (url) => checkRobotUrl(url, { allowedNetworks: config.ROBOT_NETWORKS_ALLOWED }),
      logger,
      async (entries) => {
        // A robot leaving the registry (deleted or moved) or suspended loses its session and is stopped
        // (its driver let go after), and its link closes: dialling again, it hears what it is now.
        const kept = new Set(entries.map((entry) => entry.id));
        for (const gone of robots.list().filter((entry) => !kept.has(entry.id))) {
          await access.endHolder(gone, "deleted");
          links.closeHere(gone.id, "the robot was deleted or renamed");
        }
        for (const suspended of entries.filter((entry) => entry.listing?.suspended)) {
          await access.endHolder(suspended, "suspended");
          links.closeHere(suspended.id, "the robot was suspended by an administrator");
        }
        robots.reload(entries);
      },
      () => pubsub.publish(CATALOG_CHANNEL, instance),
    );
    const unsubscribeCatalog = await pubsub.subscribe(CATALOG_CHANNEL, (from) => {
      if (from !== instance)
        catalog.reload().catch((err) => logger.error({ err }, "reloading the robot catalog failed"));
    });
    closers.push(unsubscribeCatalog);
    const services = config.SIMULATED_SERVICES
      ? await startSimulatedServices(simulated.sims[0]?.cameraUrl, configuredPayees)
      : undefined;
    if (services) closers.push(services.close);
    await catalog.syncConfigured(
      [...simulated.entries, ...rovers.entries, ...configured].map((entry) => ({
        entry,
        price: config.SESSION_PRICE.replace("$", ""),
        payees: configuredPayees,
      })),
      services?.robots ?? [],
    );

    // Sign-ins are bound to the configured origins, never to the Host a request claims.
    const origins = new SignInOrigins(signInOrigins(config));
    const controlAuth = payments ? paidAuth(access, { kv, origins }) : walletHeaderAuth(access);
    const buy =
      payments && network
        ? paidPurchase(
            access,
            payments,
            robots,
            (robot) => ({
              accepts: termsOn(
                networks,
                robot.listing?.price ?? config.SESSION_PRICE,
                payeesOr(robot.listing?.payees, platformPayees),
              ),
              description: `${config.SESSION_DURATION_MINUTES} minutes of control of ${robot.id}`,
            }),
            logger,
            config.ROBO402_CRASH_AFTER,
          )
        : freePurchase(access);

    let recoverPayments = async () => {};
    if (payments) {
      const recovery = new PaymentRecovery(ledger, networks, logger, {
        graceMs: config.PAYMENT_RECOVERY_GRACE_MS,
        claimMs: RECOVERY_INTERVAL_MS,
      });
      const recover = () =>
        recovery
          .run(
            (payment) =>
              isPurchase(payment)
                ? recoverPurchase(access, payment)
                : // A call's answer was lost with the process: the caller never got what was paid for.
                  Promise.resolve({ refund: "the call's answer was lost in a restart" }),
            (payment) => access.abandonFor(payment.id),
          )
          .catch((err) => logger.error({ err }, "payment recovery failed; will retry"));
      recoverPayments = recover;
      await recover();
      const timer = setInterval(recover, RECOVERY_INTERVAL_MS);
      closers.push(async () => clearInterval(timer));
    }
    access.startSweeper();
    closers.push(() => access.close());

    // Accounts and the marketplace.
    const accounts = await AuthService.open(database.db, kv, {
      jwtSecret: config.JWT_SECRET,
      ttlMinutes: config.JWT_TTL_MINUTES,
      // Wallet sign-in is SIWE: it names an EVM chain.
      chainId: (([evm]) => (evm ? Number(evm.id.split(":")[1]) : undefined))(
        networks.filter((accepted) => accepted.id.startsWith("eip155:")),
      ),
      origins,
    });
    if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
      // Refused but not fatal: anyone may register ADMIN_EMAIL first, and must not keep the server down by it.
      await accounts.bootstrapAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD).catch((error: unknown) => {
        if (!(error instanceof AdminEmailTakenError)) throw error;
        logger.warn({ email: error.email }, error.message);
      });
    }
    const sessionEvents = new SessionEvents(pubsub, logger);
    const directDispatcher = new Agent();
    closers.push(() => directDispatcher.close());
    const executorOptions = {
      timeoutMs: config.EXECUTE_TIMEOUT_MS,
      maxResponseBytes: config.EXECUTE_MAX_RESPONSE_BYTES,
    };
    const executeStore = new ExecuteStore(database.db);
    const recorder = new ExecutionRecorder(executeStore, catalog, accounts);
    const executions = new ExecuteService(
      executeStore,
      catalog,
      recorder,
      // The configuration's own robots are trusted; an owner's robot is called through the SSRF guard.
      (robot, job) =>
        executeService(robot.endpoint, job, {
          ...executorOptions,
          dispatcher: robot.ownerId ? ownersDispatcher : directDispatcher,
        }),
      sessionEvents,
      { sessionMinutes: config.PAYMENT_SESSION_MINUTES },
      payments && { networks },
    );
    const call = payments
      ? paidCall(
          executions,
          new SessionCalls(executeStore, executions, recorder, kv, sessionEvents, {
            timeoutMs: config.EXECUTE_TIMEOUT_MS,
          }),
          payments,
        )
      : freeCall(executions);
    // The plan's transfer-then-verify flow; what reached a robot's wallet and paid nothing is kept for a refund.
    const unmatched = new UnmatchedTransfers(database.db);
    const transfers = new TransferPayments(
      executeStore,
      new SpentTransactions(database.db),
      unmatched,
      accounts,
      sessionEvents,
      logger,
      payments && {
        networks,
        verifiers: new Map(
          networks.map((accepted) => [
            accepted.id,
            FAMILIES[accepted.family].verifier(accepted, {
              confirmations: config.VERIFY_CONFIRMATIONS,
              commitment: config.SOLANA_COMMITMENT,
            }),
          ]),
        ),
      },
    );
    const expiry = setInterval(
      () => executions.sweep().catch((err) => logger.error({ err }, "expiring payment sessions failed")),
      PAYMENT_SESSION_SWEEP_MS,
    );
    closers.push(async () => clearInterval(expiry));

    const readiness: Record<string, ReadinessCheck> = { database: () => database.ping() };
    if (config.REDIS_URL) readiness.redis = () => kv.ping();
    if (network) {
      readiness.chain = () => answers(network.rpcUrl, { method: "POST", body: RPC_BLOCK_NUMBER });
      readiness.facilitator = () => answers(`${network.facilitatorUrl}/supported`);
    }

    const app = new OpenAPIHono();
    app.onError(errorHandler(logger));
    app.notFound((c) => c.json({ detail: "Not Found" }, 404));
    app.use(requestContext(logger));
    // Server-Timing on every answer (total, and the paid path's stages), so where the time goes is visible.
    app.use(timing());
    app.use(metrics.middleware());
    app.use(secureHeaders());
    app.use(cors({ origins: config.CORS_ORIGINS, exposeHeaders: EXPOSED_HEADERS }));
    app.use(bodyLimit(MAX_BODY_BYTES));
    app.get("/health", (c) =>
      c.json(HealthResponse.parse({ status: "healthy", payment_enabled: config.PAYMENT_ENABLED })),
    );
    app.route("/", healthRoutes(readiness));
    app.route("/", metrics.routes());
    // What costs an argon2 hash or chain calls is limited per client address, and per account (or email
    // tried) where there is one, counted in the Kv so every instance shares the count. Registered before
    // the routes they guard: Hono runs handlers in the order they were added.
    const perMinute = (scope: string, limit: number, key: RateLimitOptions["key"]) =>
      rateLimit({ kv, limit, windowMs: 60_000, scope, key });
    const address: RateLimitOptions["key"] = (c) => clientIp(c, { trustProxy: config.TRUST_PROXY });
    app.use(
      "/api/auth/login",
      perMinute("/api/auth/login from this address", config.LOGIN_RATE_LIMIT, address),
      perMinute("/api/auth/login for this email", config.LOGIN_RATE_LIMIT, triedEmail),
    );
    app.use(
      "/api/auth/register",
      perMinute("/api/auth/register from this address", config.REGISTER_RATE_LIMIT, address),
    );
    app.use(
      "/api/v1/access/purchase",
      perMinute("/api/v1/access/purchase from this address", config.PURCHASE_RATE_LIMIT, address),
    );
    app.use(
      "/api/payments/verify",
      perMinute("/api/payments/verify from this address", config.VERIFY_RATE_LIMIT, address),
      authenticate(accounts),
      perMinute(
        "/api/payments/verify for this account",
        config.VERIFY_RATE_LIMIT,
        (c) => (c.var as { user?: { id: string } }).user?.id,
      ),
    );
    app.route(
      "/api/v1/access",
      accessRoutes(access, controlAuth, buy, {
        network: network?.id ?? null,
        payTo: network?.payTo ?? null,
        paymentEnabled: config.PAYMENT_ENABLED,
        sessionMinutes: config.SESSION_DURATION_MINUTES,
        sessionPrice: config.SESSION_PRICE,
      }),
    );
    app.route("/api/v1/robot", robotRoutes(robots, access, controlAuth));
    app.route("/api/v1/robots", robotListRoutes(robots, access));
    const deviceTokens = new DeviceTokens(database.db);
    app.route(
      "/",
      linkRoutes(
        links,
        deviceTokens,
        perMinute("/api/v1/link from this address", config.LINK_RATE_LIMIT, address),
        (c) => clientIp(c, { trustProxy: config.TRUST_PROXY }),
        logger,
      ),
    );

    // The second plan's API. Its bearer tokens are account JWTs; /api/v1's are session tokens.
    for (const path of ["/api/robots", "/api/robots/*", "/api/execute/*", "/api/payments", "/api/payments/*"])
      app.use(path, authenticate(accounts));
    app.use("/api/executions", authenticate(accounts));
    app.use("/api/admin/*", authenticate(accounts), requireRole("admin"));
    app.route("/api/auth", authRoutes(accounts));
    app.route("/api/admin", adminUserRoutes(accounts));
    // Whether a robot that dials in has its link up now: read where the link's holder is recorded.
    const linkPresence = (hosts: readonly string[]) => links.linkedAmong(hosts);
    app.route("/api/admin", adminRobotRoutes(catalog, linkPresence));
    app.route("/api/admin", listingRoutes(executions, catalog, true));
    app.route("/api/admin", adminUnmatchedRoutes(unmatched));
    app.route(
      "/api/robots",
      catalogRoutes(
        catalog,
        async (robotId) => (await executions.recentPayments(robotId)).map(recentPayment),
        requireRole("robot_owner", "admin"),
        linkPresence,
      ),
    );
    app.route(
      "/api/robots",
      deviceTokenRoutes((id, caller) => catalog.getOwned(id, caller), deviceTokens, links, logger),
    );
    const perCaller = rateLimit({
      kv,
      limit: config.EXECUTE_RATE_LIMIT,
      windowMs: 60_000,
      scope: "/api/execute",
      key: (c) =>
        (c.var as { user?: { id: string } }).user?.id ?? clientIp(c, { trustProxy: config.TRUST_PROXY }),
    });
    app.route("/api", executeRoutes(executions, call, perCaller, transfers));
    app.route("/api", unmatchedRoutes(unmatched, catalog));
    app.route("/api", listingRoutes(executions, catalog));
    app.route(
      "/",
      sessionSocketRoutes(sessionEvents, (id) => executions.status(id), logger),
    );

    app.doc31("/openapi.json", {
      openapi: "3.1.0",
      info: { title: "robo402", version: "0.1.0", description: "Pay robots over HTTP 402" },
    });
    app.route("/", docsRoutes());
    // Last: the portals answer only what no API route did.
    app.route("/", webRoutes(WEB_DIST));

    const linkSimulated = async (url: string) => {
      if (config.SIMULATED_LINK_ROBOTS.length === 0) return;
      const stop = await startLinkedSimulators(
        config.SIMULATED_LINK_ROBOTS,
        url,
        async (entries) => {
          await catalog.addConfigured(
            entries.map((entry) => ({
              entry,
              price: config.SESSION_PRICE.replace("$", ""),
              payees: configuredPayees,
            })),
          );
          const tokens = entries.map(
            async ({ id }) => [id, await deviceTokens.rotateConfigured(id)] as const,
          );
          return new Map(await Promise.all(tokens));
        },
        logger,
      );
      closers.push(stop);
    };

    return {
      app,
      linkSimulated,
      access,
      robots,
      database,
      network,
      networks,
      recoverPayments: () => recoverPayments(),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
