import type { Db } from "../db/client.ts";
import type { RobotCatalog } from "../robots/catalog.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import type { ExecutionOutcome } from "./executor.ts";
import type { CallQuote, ExecuteStore } from "./store.ts";

/** What execution needs of accounts (the auth domain's service). */
export interface Accounts {
  /** The wallet linked to the account, if any (lower case). */
  walletOf(userId: string): Promise<string | null>;
  /** Adds to what the account has spent, inside the caller's transaction. */
  addSpent(userId: string, amount: string, db: Db): Promise<void>;
}

/** Who a call was for, and the paid session it is charged to (none when nothing is charged). */
export interface ChargedTo {
  readonly userId: string | null;
  readonly sessionId?: string;
  readonly charged: CallQuote | undefined;
}

/**
 * The execution log, the robot's counters and the account's spending, written together with the
 * payment's outcome, so the listing never recomputes and never disagrees with the ledger.
 */
export class ExecutionRecorder {
  constructor(
    private readonly store: ExecuteStore,
    private readonly catalog: RobotCatalog,
    private readonly accounts: Accounts,
  ) {}

  /** Records a call in its own transaction. */
  record(robot: CatalogRobot, outcome: ExecutionOutcome, who: ChargedTo): Promise<void> {
    return this.store.transaction((db) => this.recordIn(db, robot, outcome, who));
  }

  /** Records a call inside the caller's transaction (the one that marks its payment). */
  async recordIn(db: Db, robot: CatalogRobot, outcome: ExecutionOutcome, who: ChargedTo): Promise<void> {
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
}
