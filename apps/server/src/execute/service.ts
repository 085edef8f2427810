import { familyOf } from "../payments/families/index.ts";
import type { PaymentNetwork } from "../payments/networks.ts";
import { payeeOn } from "../payments/networks.ts";
import { type Offer, termsOn } from "../payments/x402.ts";
import { Refusal } from "../refusal.ts";
import type { Caller, RobotCatalog } from "../robots/catalog.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import { robotKind } from "../robots/drivers/index.ts";
import { trimDecimal } from "../robots/robot-json.ts";
import type { ExecutionOutcome } from "./executor.ts";
import type { ChargedTo, ExecutionRecorder } from "./record.ts";
import type { CallQuote, ExecuteStore, ExecutionFilter, ExecutionLog, SessionFilter } from "./store.ts";

/** Calls a robot's service: the executor bound to its timeout, size limit and (for owners' robots) SSRF guard. */
export type RunService = (robot: CatalogRobot, request: Job) => Promise<ExecutionOutcome>;

/** Where a session's status changes are announced (the `/ws/session/{id}` sockets listen). */
export interface SessionAnnouncer {
  publish(sessionId: string, status: CallQuote["status"]): Promise<void>;
}

export interface ExecuteOptions {
  /** How long a 402's payment session can be paid (the plan's 15 minutes). */
  readonly sessionMinutes: number;
}

/** What the caller asked a robot to do. */
export interface Job {
  readonly service: string;
  readonly input: unknown;
}

export interface ExecutedBody {
  success: true;
  data: unknown;
  session_id: string | null;
  service: string;
  response_time: number;
  payment_tx: string | null;
}

/**
 * Pay-per-call: robots sold per call, their payment sessions (the 402's offers, paid by x402 or by a
 * transfer) and what the calls did. The robot's service runs before any money moves: a failed or
 * timed-out execution is never charged. The flows live beside it: `paid-call.ts` (x402),
 * `session-call.ts` (X-Session-ID), `transfer-verify.ts` (the plan's transfer), `record.ts`.
 */
export class ExecuteService {
  constructor(
    private readonly store: ExecuteStore,
    private readonly catalog: RobotCatalog,
    private readonly recorder: ExecutionRecorder,
    private readonly runService: RunService,
    private readonly events: SessionAnnouncer,
    private readonly options: ExecuteOptions,
    /** Paid mode's chains (the first is the plan flow's default); undefined in free mode. */
    private readonly paid?: { readonly networks: readonly PaymentNetwork[] },
  ) {}

  /** The robot, if it may be called now: 404 unknown, 403 suspended, 409 sold by time, 503 not active. */
  async callable(robotId: string): Promise<CatalogRobot> {
    const robot = await this.catalog.get(robotId);
    if (robot.suspendedAt)
      throw new Refusal("forbidden", `Robot ${robot.name} is suspended by an administrator.`);
    if (robotKind(robot.driver).sells !== "calls")
      throw new Refusal(
        "conflict",
        `Robot ${robot.name} is sold by time, not per call: buy a session with POST /api/v1/access/purchase {"robot_host": "${robot.host}"}.`,
      );
    if (robot.status !== "active")
      throw new Refusal("unavailable", `Robot ${robot.name} is ${robot.status}; try again later.`);
    return robot;
  }

  /** The job a request body describes: its service (the robot's first by default) and its input. */
  job(robot: CatalogRobot, body: { service?: string; input?: unknown } & Record<string, unknown>): Job {
    const { service = robot.services[0], input, ...rest } = body;
    if (!service || !robot.services.includes(service)) {
      throw new Refusal(
        "invalid",
        `Robot ${robot.name} does not sell '${service}'. It sells: ${robot.services.join(", ")}.`,
      );
    }
    return { service, input: input !== undefined ? input : rest };
  }

  /** The x402 route this robot's calls are sold under: its price, its wallet, its description. */
  offer(robot: CatalogRobot, extensions?: Record<string, unknown>): Offer {
    return {
      resource: `execute:${robot.id}`,
      accepts: termsOn(this.#networks(), robot.price, robot.payees),
      description: `${robot.name}: ${robot.services.join(", ")} (per call)`,
      extensions,
    };
  }

  /** A session's status as a watcher sees it (pending past its time reads as expired). */
  async status(sessionId: string): Promise<CallQuote["status"] | undefined> {
    const session = await this.store.get(sessionId);
    if (!session) return undefined;
    if (session.status === "pending" && session.expiresAt <= new Date()) return "expired";
    return session.status;
  }

  sessions(filter: SessionFilter): Promise<CallQuote[]> {
    return this.store.sessions(filter);
  }

  executions(filter: ExecutionFilter): Promise<ExecutionLog[]> {
    return this.store.executions(filter);
  }

  /** A robot's latest paid calls, for its metrics. */
  recentPayments(robotId: string): Promise<CallQuote[]> {
    return this.store.sessions({ robotId, status: ["paid", "completed"], limit: 10, offset: 0 });
  }

  /** Expires pending sessions whose time is up and tells their watchers. */
  async sweep(): Promise<void> {
    for (const id of await this.store.expire(new Date())) await this.events.publish(id, "expired");
  }

  /** Free mode: the call runs and nothing is charged. */
  async free(robot: CatalogRobot, job: Job, caller: Caller | undefined): Promise<ExecutedBody> {
    const outcome = await this.run(robot, job);
    await this.recorder.record(robot, outcome, { userId: caller?.id ?? null, charged: undefined });
    if (outcome.status !== "success")
      throw executionFailed(robot, outcome, "Nothing is charged in free mode.");
    return executedBody(job, outcome, null, null);
  }

  /** The payment session a request names in X-Session-ID (404 when there is none). */
  async session(id: string): Promise<CallQuote> {
    const session = await this.store.get(id);
    if (!session) throw new Refusal("not_found", `Payment session ${id} not found.`);
    return session;
  }

  /**
   * A payment session for one call: on `network` (an x402 payment's own), or else on the network the
   * caller named (X-Payment-Network), or else the first accepted network the robot can be paid on.
   */
  openSession(
    robot: CatalogRobot,
    job: Job,
    caller: Caller | undefined,
    pay: { payer: string | null; network?: string; named?: string },
  ): Promise<CallQuote> {
    const { payees } = robot;
    const payable = this.#networks().filter((network) => payeeOn(network, payees));
    const network = pay.network
      ? payable.find((accepted) => accepted.id === pay.network)
      : pay.named
        ? payable.find((accepted) => accepted.name === pay.named)
        : payable[0];
    if (!network)
      throw new Refusal(
        "invalid",
        pay.named && !pay.network
          ? `Robot ${robot.name} cannot be paid on '${pay.named}' here; it can on: ${payable.map((accepted) => accepted.name).join(", ") || "none"}.`
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
      payer: pay.payer,
      service: job.service,
      servicePayload: job.input === undefined ? null : job.input,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.options.sessionMinutes * 60_000),
    });
  }

  /** The second plan's 402 fields and headers for `session`, to stand beside x402's. */
  plan402(robot: CatalogRobot, session: CallQuote) {
    const network = this.#networks().find((accepted) => accepted.id === session.network);
    if (!network) throw new Error(`session ${session.id} is on a network that is not accepted`);
    const amount = trimDecimal(session.amount);
    return {
      body: {
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
      },
      headers: {
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

  /** Runs the robot's service (bound to its timeout, size limit and guard). */
  run(robot: CatalogRobot, job: Job): Promise<ExecutionOutcome> {
    return this.runService(robot, job);
  }

  /** A call that failed: recorded, charged nothing; the error to answer with. */
  async notCharged(
    robot: CatalogRobot,
    outcome: ExecutionOutcome,
    who: ChargedTo,
    after: string,
  ): Promise<Refusal> {
    await this.uncharged(robot, outcome, who);
    return executionFailed(robot, outcome, after);
  }

  /** A call that earned nothing (it failed, or its payment did not settle), recorded. */
  uncharged(robot: CatalogRobot, outcome: ExecutionOutcome, who: ChargedTo): Promise<void> {
    return this.recorder.record(robot, outcome, { ...who, charged: undefined });
  }

  /**
   * A call paid through x402 and settled: its session is paid by the settlement's transaction, and the
   * execution, counters and spending are written with it, in one transaction.
   */
  async charged(
    robot: CatalogRobot,
    job: Job,
    session: CallQuote,
    outcome: ExecutionOutcome & { status: "success" },
    paid: { txHash: string; payer: string; userId: string | null },
  ): Promise<ExecutedBody> {
    // Canonical as its family writes it: EVM hex in lower case, a Solana signature (base58) as it is.
    const tx = familyOf(session.network)?.canonical(paid.txHash) ?? paid.txHash;
    await this.store.transaction(async (db) => {
      await this.store.markPaid(session.id, { txSignature: tx, payer: paid.payer, paidAt: new Date() }, db);
      await this.recorder.recordIn(db, robot, outcome, {
        userId: paid.userId,
        sessionId: session.id,
        charged: session,
      });
    });
    await this.events.publish(session.id, "completed");
    return executedBody(job, outcome, session.id, tx);
  }

  #networks(): readonly PaymentNetwork[] {
    if (!this.paid) throw new Error("paid mode is off");
    return this.paid.networks;
  }
}

export function executedBody(
  job: Job,
  outcome: ExecutionOutcome & { status: "success" },
  sessionId: string | null,
  tx: string | null,
): ExecutedBody {
  return {
    success: true,
    data: outcome.result,
    session_id: sessionId,
    service: job.service,
    response_time: outcome.responseTimeMs,
    payment_tx: tx,
  };
}

/** A robot that failed is the robot's fault, not the caller's: 502/504, with what it said. */
export function executionFailed(robot: CatalogRobot, outcome: ExecutionOutcome, after: string): Refusal {
  if (outcome.status === "success") throw new Error("not a failure");
  if (outcome.status === "timeout")
    return new Refusal(
      "robot_timeout",
      `Robot ${robot.name} did not answer in time (${outcome.error}). ${after}`,
    );
  return new Refusal("robot_failed", `Robot ${robot.name} failed: ${outcome.error}. ${after}`);
}
