import { Agent } from "undici";
import { AdminEmailTakenError } from "../auth/bootstrap.ts";
import type { SignInOrigins } from "../auth/origins.ts";
import { AuthService } from "../auth/service.ts";
import { siweChainId } from "../auth/siwe-chain.ts";
import type { Config } from "../config.ts";
import { executeService } from "../execute/executor.ts";
import { ExecutionRecorder } from "../execute/record.ts";
import { freeCall, paidCall } from "../execute/routes.ts";
import { ExecuteService } from "../execute/service.ts";
import { SessionCalls } from "../execute/session-call.ts";
import { ExecuteStore } from "../execute/store.ts";
import { TransferPayments } from "../execute/transfer-verify.ts";
import { SpentTransactions } from "../payments/spent.ts";
import { UnmatchedTransfers } from "../payments/unmatched.ts";
import { SessionEvents } from "../realtime/events.ts";
import type { RobotCatalog } from "../robots/catalog.ts";
import type { Payments } from "./payments.ts";
import type { Control } from "./robots.ts";
import type { Wiring } from "./shutdown.ts";
import type { Stores } from "./stores.ts";

type MarketSettings = Pick<
  Config,
  | "JWT_SECRET"
  | "JWT_TTL_MINUTES"
  | "ADMIN_EMAIL"
  | "ADMIN_PASSWORD"
  | "EXECUTE_TIMEOUT_MS"
  | "EXECUTE_MAX_RESPONSE_BYTES"
  | "PAYMENT_SESSION_MINUTES"
>;

/** Accounts and the marketplace: pay-per-call robots, paid through x402 or the plan's transfer flow. */
export async function wireMarketplace(
  config: MarketSettings,
  { database, kv, pubsub }: Stores,
  { ownersDispatcher }: Pick<Control, "ownersDispatcher">,
  { networks, x402, transferChains }: Payments,
  catalog: RobotCatalog,
  origins: SignInOrigins,
  { logger, shutdown }: Wiring,
) {
  const accounts = await AuthService.open(database.db, kv, {
    jwtSecret: config.JWT_SECRET,
    ttlMinutes: config.JWT_TTL_MINUTES,
    chainId: siweChainId(networks.map((accepted) => accepted.id)),
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
  shutdown.add(() => directDispatcher.close());
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
    x402 && { networks },
  );
  const call = x402
    ? paidCall(
        executions,
        new SessionCalls(executeStore, executions, recorder, kv, sessionEvents, {
          timeoutMs: config.EXECUTE_TIMEOUT_MS,
        }),
        x402,
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
    transferChains,
  );
  return { accounts, sessionEvents, executions, call, unmatched, transfers };
}

export type Marketplace = Awaited<ReturnType<typeof wireMarketplace>>;
