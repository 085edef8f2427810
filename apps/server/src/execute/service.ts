import type { HTTPResponseInstructions } from "@x402/core/server";
import type { Context } from "hono";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { HttpError } from "../http/errors.ts";
import type { Kv } from "../kv/kv.ts";
import { type Offer, refusalBody, termsOn } from "../payments/gate.ts";
import { dollarsToBaseUnits, type Payees, type PaymentNetwork, payeeOn } from "../payments/networks.ts";
import type { TransferVerifier } from "../payments/onchain/types.ts";
import type { PaymentService, VerifiedPayment } from "../payments/service.ts";
import { type Caller, type RobotCatalog, trimDecimal } from "../robots/catalog.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import type { ExecutionOutcome } from "./executor.ts";
import type { ExecuteStore, ExecutionFilter, ExecutionLog, PaymentSession, SessionFilter } from "./store.ts";

/** Calls a robot's service: the executor bound to its timeout, size limit and (for owners' robots) SSRF guard. */
export type RunService = (robot: CatalogRobot, request: Job) => Promise<ExecutionOutcome>;

/** What execution needs of accounts (the auth domain's service). */
export interface Accounts {
  /** The wallet linked to the account, if any (lower case). */
  walletOf(userId: string): Promise<string | null>;
  /** Adds to what the account has spent, inside the caller's transaction. */
  addSpent(userId: string, amount: string, db: Db): Promise<void>;
}

/** Where a session's status changes are announced (the `/ws/session/{id}` sockets listen). */
export interface SessionAnnouncer {
  publish(sessionId: string, status: PaymentSession["status"]): Promise<void>;
}

export interface ExecuteOptions {
  /** How long a 402's payment session can be paid (the plan's 15 minutes). */
  readonly sessionMinutes: number;
  /** Longest a service may run; a paid session is held this long (plus a margin) against a second use. */
  readonly timeoutMs: number;
}

/** What the caller asked a robot to do. */
export interface Job {
  readonly service: string;
  readonly input: unknown;
}

export type ExecuteResult =
  | { kind: "payment-required"; body: Record<string, unknown>; headers: Record<string, string> }
  | { kind: "done"; body: ExecutedBody; headers: Record<string, string> };

export interface ExecutedBody {
  success: true;
  data: unknown;
  session_id: string | null;
  service: string;
  response_time: number;
  payment_tx: string | null;
}

export type VerifyResult =
  | { verified: true; session_id: string; tx_signature: string }
  | { verified: false; error: string; code: string };

/**
 * Pay-per-call: the second plan's flow (402 with a payment session → on-chain transfer → verify → retry
 * with X-Session-ID) and x402's (PAYMENT-SIGNATURE → verify → run → settle) over the same sessions,
 * executions and counters. The robot's service runs before any money moves: a failed or timed-out
 * execution is never charged.
 */
export class ExecuteService {
  constructor(
    private readonly store: ExecuteStore,
    private readonly catalog: RobotCatalog,
    private readonly accounts: Accounts,
    private readonly run: RunService,
    private readonly kv: Kv,
    private readonly events: SessionAnnouncer,
    private readonly logger: Logger,
    private readonly options: ExecuteOptions,
    /**
     * Paid mode's chains (the first is the plan flow's default), x402 payments and each chain's on-chain
     * verifier by CAIP-2 id; undefined in free mode (nothing charged).
     */
    private readonly paid?: {
      readonly networks: readonly PaymentNetwork[];
      readonly payments: PaymentService;
      readonly verifiers: ReadonlyMap<string, TransferVerifier>;
    },
  ) {}

  /** The robot, if it may be called now: 404 unknown, 403 suspended, 409 sold by time, 503 not active. */
  async callable(robotId: string): Promise<CatalogRobot> {
    const robot = await this.catalog.get(robotId);
    if (robot.suspendedAt) throw new HttpError(403, `Robot ${robot.name} is suspended by an administrator.`);
    if (robot.driver !== "http-service")
      throw new HttpError(
        409,
        `Robot ${robot.name} is sold by time, not per call: buy a session with POST /api/v1/access/purchase {"robot_host": "${robot.host}"}.`,
      );
    if (robot.status !== "active")
      throw new HttpError(503, `Robot ${robot.name} is ${robot.status}; try again later.`);
    return robot;
  }

  /** The job a request body describes: its service (the robot's first by default) and its input. */
  job(robot: CatalogRobot, body: { service?: string; input?: unknown } & Record<string, unknown>): Job {
    const { service = robot.services[0], input, ...rest } = body;
    if (!service || !robot.services.includes(service)) {
      throw new HttpError(
        422,
        `Robot ${robot.name} does not sell '${service}'. It sells: ${robot.services.join(", ")}.`,
      );
    }
    return { service, input: input !== undefined ? input : rest };
  }

  /** The x402 route this robot's calls are sold under: its price, its wallet, its description. */
  offer(robot: CatalogRobot, extensions?: Record<string, unknown>): Offer {
    if (!this.paid) throw new Error("offer() needs paid mode");
    return {
      path: `/api/execute/${robot.id}`,
      accepts: termsOn(this.paid.networks, robot.price, payeesOf(robot)),
      description: `${robot.name}: ${robot.services.join(", ")} (per call)`,
      extensions,
    };
  }

  /** One call, however the caller pays: X-Session-ID, an x402 payment header, or neither (the 402). */
  async execute(
    c: Context,
    robot: CatalogRobot,
    job: Job,
    caller: Caller | undefined,
    offerExtensions?: Record<string, unknown>,
  ): Promise<ExecuteResult> {
    if (!this.paid) return this.#free(robot, job, caller);
    const sessionId = c.req.header("x-session-id")?.trim();
    if (sessionId) return this.#withSession(c, robot, job, sessionId, caller, offerExtensions);
    return this.#x402(c, robot, job, caller, offerExtensions);
  }

  /** The plan's `POST /api/payments/verify`: checks the transfer on chain and marks the session paid. */
  async verify(sessionId: string, txSignature: string): Promise<VerifyResult> {
    if (!this.paid) throw new HttpError(409, "Payments are disabled on this server (PAYMENT_ENABLED=false).");
    const session = await this.#session(sessionId);
    const network = this.paid.networks.find((accepted) => accepted.id === session.network);
    const verifier = this.paid.verifiers.get(session.network);
    if (!network || !verifier)
      return refused(
        "unsupported_network",
        `Session ${session.id} is on ${session.network}, which this server no longer accepts; ask for a new 402.`,
      );
    const tx = verifier.canonical(txSignature);
    if (session.status === "paid" || session.status === "completed") {
      if (session.txSignature === tx) return { verified: true, session_id: session.id, tx_signature: tx };
      return refused("already_paid", `Session ${session.id} is already paid by ${session.txSignature}.`);
    }
    if (session.status === "expired" || session.expiresAt <= new Date())
      return refused(
        "expired",
        `Session ${session.id} expired at ${session.expiresAt.toISOString()}; ask for a new 402.`,
      );

    const payer = session.userId ? await this.accounts.walletOf(session.userId) : null;
    const check = await verifier.verify({
      txHash: txSignature,
      asset: session.asset,
      recipient: session.recipientAddress,
      minAmount: BigInt(dollarsToBaseUnits(session.amount, network.asset.decimals)),
      notBefore: session.createdAt,
      payer: payer ?? undefined,
      memo: session.id,
    });
    if (!check.ok) return refused(check.code, check.reason);

    let paid: PaymentSession | undefined;
    try {
      paid = await this.store.markPaid(session.id, {
        txSignature: check.txHash,
        payer: check.payer,
        paidAt: new Date(),
      });
    } catch (error) {
      if (isUniqueViolation(error))
        return refused(
          "reused",
          `Transaction ${check.txHash} already paid another session; a transfer pays once.`,
        );
      throw error;
    }
    if (!paid) return this.verify(sessionId, txSignature); // raced with another verify or the expiry sweep
    this.logger.info({ session: paid.id, tx: paid.txSignature, payer: paid.payer }, "payment session paid");
    await this.events.publish(paid.id, "paid");
    return { verified: true, session_id: paid.id, tx_signature: check.txHash };
  }

  /** A session's status as a watcher sees it (pending past its time reads as expired). */
  async status(sessionId: string): Promise<PaymentSession["status"] | undefined> {
    const session = await this.store.get(sessionId);
    if (!session) return undefined;
    if (session.status === "pending" && session.expiresAt <= new Date()) return "expired";
    return session.status;
  }

  sessions(filter: SessionFilter): Promise<PaymentSession[]> {
    return this.store.sessions(filter);
  }

  executions(filter: ExecutionFilter): Promise<ExecutionLog[]> {
    return this.store.executions(filter);
  }

  /** A robot's latest paid calls, for its metrics. */
  recentPayments(robotId: string): Promise<PaymentSession[]> {
    return this.store.sessions({ robotId, status: ["paid", "completed"], limit: 10, offset: 0 });
  }

  /** Expires pending sessions whose time is up and tells their watchers. */
  async sweep(): Promise<void> {
    for (const id of await this.store.expire(new Date())) await this.events.publish(id, "expired");
  }

  // ——— the three ways to pay ———

  async #free(robot: CatalogRobot, job: Job, caller: Caller | undefined): Promise<ExecuteResult> {
    const outcome = await this.run(robot, job);
    await this.#record(robot, outcome, { userId: caller?.id ?? null, charged: undefined });
    if (outcome.status !== "success")
      throw executionFailed(robot, outcome, "Nothing is charged in free mode.");
    return { kind: "done", body: this.#body(job, outcome, null, null), headers: {} };
  }

  /** x402: a payment header is verified, the robot run, the payment settled; without one, the 402. */
  async #x402(
    c: Context,
    robot: CatalogRobot,
    job: Job,
    caller: Caller | undefined,
    extensions?: Record<string, unknown>,
  ): Promise<ExecuteResult> {
    const paid = this.#paidMode();
    const checkout = await paid.payments.checkout(c, `execute:${robot.id}`, this.offer(robot, extensions));
    if (checkout.kind === "repeat") {
      throw new HttpError(
        409,
        `This payment (identifier ${checkout.payment.paymentIdentifier}) already bought a call, session ${checkout.payment.sessionId}; it is charged once. Pay again for another call.`,
      );
    }
    if (checkout.kind === "respond") {
      const session = await this.#openSession(c, robot, job, caller, null);
      return this.#planned402(checkout.response, robot, session);
    }
    const { verified } = checkout;
    const session = await this.#openSession(
      c,
      robot,
      job,
      caller,
      verified.payment.payer,
      verified.requirements.network,
    );

    const outcome = await this.run(robot, job);
    if (outcome.status !== "success") {
      await paid.payments.reject(
        verified.payment,
        `execution ${outcome.status}: ${outcome.error}; not charged`,
      );
      await this.#record(robot, outcome, {
        userId: caller?.id ?? null,
        sessionId: session.id,
        charged: undefined,
      });
      throw executionFailed(robot, outcome, "You were not charged.");
    }
    return this.#settleAndDeliver(c, robot, job, session, verified, outcome, caller);
  }

  async #settleAndDeliver(
    c: Context,
    robot: CatalogRobot,
    job: Job,
    session: PaymentSession,
    verified: VerifiedPayment,
    outcome: ExecutionOutcome & { status: "success" },
    caller: Caller | undefined,
  ): Promise<ExecuteResult> {
    const paid = this.#paidMode();
    const settled = await paid.payments.settle(c, verified, session.id);
    if (!settled.ok) {
      // The robot worked but the money did not move: logged as done, earned nothing, and the client told why.
      await this.#record(robot, outcome, {
        userId: caller?.id ?? null,
        sessionId: session.id,
        charged: undefined,
      });
      throw new HttpError(402, `Payment refused at settlement: ${settled.reason}. You were not charged.`);
    }
    const tx = settled.txHash.toLowerCase();
    await this.store.transaction(async (db) => {
      await this.store.markPaid(
        session.id,
        { txSignature: tx, payer: verified.payment.payer, paidAt: new Date() },
        db,
      );
      await this.#recordIn(db, robot, outcome, {
        userId: caller?.id ?? null,
        sessionId: session.id,
        charged: session,
      });
    });
    await paid.payments.granted(verified.payment, session.id);
    await this.events.publish(session.id, "completed");
    return { kind: "done", body: this.#body(job, outcome, session.id, tx), headers: settled.headers };
  }

  async #withSession(
    c: Context,
    robot: CatalogRobot,
    job: Job,
    sessionId: string,
    caller: Caller | undefined,
    extensions?: Record<string, unknown>,
  ): Promise<ExecuteResult> {
    const session = await this.#session(sessionId);
    if (session.robotId !== robot.id)
      throw new HttpError(409, `Session ${session.id} was opened for another robot (${session.robotId}).`);
    if (session.userId && session.userId !== caller?.id)
      throw new HttpError(403, `Session ${session.id} belongs to another account; log in as it to use it.`);
    if (session.status === "completed")
      throw new HttpError(409, `Session ${session.id} was already used for a call; a session pays for one.`);
    if (session.status !== "paid") {
      // Not paid (or lapsed): x402's way, paid in this request, or the same 402 again for a fresh session.
      return this.#x402(c, robot, job, caller, extensions);
    }
    // One paid session, one call: a concurrent retry waits for this one's outcome instead of running twice.
    const lock = `execute:session:${session.id}`;
    if (!(await this.kv.claim(lock, this.options.timeoutMs + 5000)))
      throw new HttpError(409, `Session ${session.id} is being used by another call right now.`);
    try {
      const outcome = await this.run(robot, job);
      if (outcome.status !== "success") {
        await this.#record(robot, outcome, {
          userId: session.userId,
          sessionId: session.id,
          charged: undefined,
        });
        throw executionFailed(robot, outcome, `Session ${session.id} stays paid: retry with it.`);
      }
      await this.store.transaction(async (db) => {
        await this.store.complete(session.id, db);
        await this.#recordIn(db, robot, outcome, {
          userId: session.userId,
          sessionId: session.id,
          charged: session,
        });
      });
      await this.events.publish(session.id, "completed");
      return { kind: "done", body: this.#body(job, outcome, session.id, session.txSignature), headers: {} };
    } finally {
      await this.kv.del(lock);
    }
  }

  // ——— sessions, records ———

  async #session(id: string): Promise<PaymentSession> {
    const session = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.get(id) : undefined;
    if (!session) throw new HttpError(404, `Payment session ${id} not found.`);
    return session;
  }

  /**
   * A payment session on `networkId` (an x402 payment's own), or else on the network the caller names in
   * X-Payment-Network, or else the first accepted network the robot can be paid on.
   */
  #openSession(
    c: Context,
    robot: CatalogRobot,
    job: Job,
    caller: Caller | undefined,
    payer: string | null,
    networkId?: string,
  ) {
    const { networks } = this.#paidMode();
    const payees = payeesOf(robot);
    const payable = networks.filter((network) => payeeOn(network, payees));
    const named = c.req.header("x-payment-network")?.trim();
    const network = networkId
      ? payable.find((accepted) => accepted.id === networkId)
      : named
        ? payable.find((accepted) => accepted.name === named)
        : payable[0];
    if (!network)
      throw new HttpError(
        422,
        named && !networkId
          ? `Robot ${robot.name} cannot be paid on '${named}' here; it can on: ${payable.map((accepted) => accepted.name).join(", ") || "none"}.`
          : `Robot ${robot.name} has no wallet on the networks this server accepts.`,
      );
    const now = new Date();
    return this.store.open({
      userId: caller?.id ?? null,
      robotId: robot.id,
      amount: robot.price,
      network: network.id,
      asset: network.asset.address,
      recipientAddress: payeeOn(network, payees) as string,
      payer,
      service: job.service,
      servicePayload: job.input === undefined ? null : job.input,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.options.sessionMinutes * 60_000),
    });
  }

  /** The 402: x402's answer (PAYMENT-REQUIRED, `accepts[]`) and the second plan's headers and body. */
  #planned402(
    response: HTTPResponseInstructions,
    robot: CatalogRobot,
    session: PaymentSession,
  ): ExecuteResult {
    const network = this.#paidMode().networks.find((accepted) => accepted.id === session.network);
    if (!network) throw new Error(`session ${session.id} is on a network that is not accepted`);
    const amount = trimDecimal(session.amount);
    const plan = {
      error: "Payment Required",
      session_id: session.id,
      amount: Number(amount),
      currency: "USDC",
      network: network.name,
      recipient: session.recipientAddress,
      expires_at: session.expiresAt.toISOString(),
      service: session.service,
      robot_id: robot.id,
      asset: session.asset,
    };
    return {
      kind: "payment-required",
      // x402's facts (and `detail`, saying why a payment was refused), then the plan's fields beside them.
      body: { ...refusalBody(response), ...plan },
      headers: {
        ...response.headers,
        "X-Payment-Required": "true",
        "X-Payment-Amount": amount,
        "X-Payment-Currency": "USDC",
        "X-Payment-Network": network.name,
        "X-Payment-Address": session.recipientAddress,
        "X-Session-ID": session.id,
        "X-Payment-Memo": session.id,
      },
    };
  }

  #record(
    robot: CatalogRobot,
    outcome: ExecutionOutcome,
    who: { userId: string | null; sessionId?: string; charged: PaymentSession | undefined },
  ): Promise<void> {
    return this.store.transaction((db) => this.#recordIn(db, robot, outcome, who));
  }

  /** The execution log, the robot's counters and the account's spending: one transaction with the payment's outcome. */
  async #recordIn(
    db: Db,
    robot: CatalogRobot,
    outcome: ExecutionOutcome,
    who: { userId: string | null; sessionId?: string; charged: PaymentSession | undefined },
  ): Promise<void> {
    await this.store.log(
      {
        sessionId: who.sessionId ?? null,
        robotId: robot.id,
        userId: who.userId,
        status: outcome.status,
        responseTime: outcome.responseTimeMs,
        error: outcome.status === "success" ? null : outcome.error,
      },
      db,
    );
    const revenue = who.charged?.amount ?? "0";
    await this.catalog.tally(
      robot.id,
      { success: outcome.status === "success", responseTimeMs: outcome.responseTimeMs, revenue },
      db,
    );
    if (who.charged && who.userId) await this.accounts.addSpent(who.userId, revenue, db);
  }

  #body(
    job: Job,
    outcome: ExecutionOutcome & { status: "success" },
    sessionId: string | null,
    tx: string | null,
  ) {
    return {
      success: true as const,
      data: outcome.result,
      session_id: sessionId,
      service: job.service,
      response_time: outcome.responseTimeMs,
      payment_tx: tx,
    };
  }

  #paidMode() {
    if (!this.paid) throw new Error("paid mode is off");
    return this.paid;
  }
}

/** Where a robot is paid, per chain family: its EVM wallet and, if its owner set one, its Solana address. */
function payeesOf(robot: CatalogRobot): Payees {
  return { evm: robot.walletAddress, svm: robot.solanaAddress ?? undefined };
}

function refused(code: string, error: string): VerifyResult {
  return { verified: false, error, code };
}

/** A robot that failed is the robot's fault, not the caller's: 502/504, with what it said. */
function executionFailed(robot: CatalogRobot, outcome: ExecutionOutcome, after: string): HttpError {
  if (outcome.status === "success") throw new Error("not a failure");
  if (outcome.status === "timeout")
    return new HttpError(504, `Robot ${robot.name} did not answer in time (${outcome.error}). ${after}`);
  return new HttpError(502, `Robot ${robot.name} failed: ${outcome.error}. ${after}`);
}
