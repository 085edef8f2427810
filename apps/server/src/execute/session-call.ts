import type { Kv } from "../kv/kv.ts";
import { Refusal } from "../refusal.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import type { ExecutionRecorder } from "./record.ts";
import {
  type ExecutedBody,
  type ExecuteService,
  executedBody,
  type Job,
  type SessionAnnouncer,
} from "./service.ts";
import type { CallQuote, ExecuteStore } from "./store.ts";

export interface SessionCallOptions {
  /** Longest a service may run; a paid session is held this long (plus a margin) against a second use. */
  readonly timeoutMs: number;
}

/**
 * The plan's retry with X-Session-ID: a session paid by transfer (and verified) buys one call. A
 * session not paid yet is paid by x402 in the same request instead (the caller decides).
 */
export class SessionCalls {
  constructor(
    private readonly store: ExecuteStore,
    private readonly executions: ExecuteService,
    private readonly recorder: ExecutionRecorder,
    private readonly kv: Kv,
    private readonly events: SessionAnnouncer,
    private readonly options: SessionCallOptions,
  ) {}

  /**
   * Whether `session` pays this call: true when it is paid and unused; false when it is not paid yet.
   * 409 for another robot or a session already used, 403 for another account's session.
   */
  pays(session: CallQuote, robot: CatalogRobot, userId: string | undefined): boolean {
    if (session.robotId !== robot.id)
      throw new Refusal(
        "conflict",
        `Session ${session.id} was opened for another robot (${session.robotId}).`,
      );
    if (session.userId && session.userId !== userId)
      throw new Refusal(
        "forbidden",
        `Session ${session.id} belongs to another account; log in as it to use it.`,
      );
    if (session.status === "completed")
      throw new Refusal(
        "conflict",
        `Session ${session.id} was already used for a call; a session pays for one.`,
      );
    return session.status === "paid";
  }

  /** Runs the call a paid session bought; a failed call leaves the session paid, to retry with. */
  async call(robot: CatalogRobot, job: Job, session: CallQuote): Promise<ExecutedBody> {
    // One paid session, one call: a concurrent retry waits for this one's outcome instead of running twice.
    const lock = `execute:session:${session.id}`;
    if (!(await this.kv.claim(lock, this.options.timeoutMs + 5000)))
      throw new Refusal("conflict", `Session ${session.id} is being used by another call right now.`);
    try {
      const outcome = await this.executions.run(robot, job);
      const who = { userId: session.userId, sessionId: session.id };
      if (outcome.status !== "success")
        throw await this.executions.notCharged(
          robot,
          outcome,
          { ...who, charged: undefined },
          `Session ${session.id} stays paid: retry with it.`,
        );
      await this.store.transaction(async (db) => {
        await this.store.complete(session.id, db);
        await this.recorder.recordIn(db, robot, outcome, { ...who, charged: session });
      });
      await this.events.publish(session.id, "completed");
      return executedBody(job, outcome, session.id, session.txSignature);
    } finally {
      await this.kv.del(lock);
    }
  }
}
