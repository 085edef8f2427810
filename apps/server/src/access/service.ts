// Over 300 lines on purpose: every way a hold begins and ends is here (purchase, release, expiry, outage),
// so the order every end follows (forget the cached session, fence it, then stop the robot) is written once.
import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { PurchaseResponse, SessionResponse } from "@robo402/protocol";
import type { Logger } from "pino";
import { isRefusal, Refusal } from "../refusal.ts";
import type { RobotEntry } from "../robots/controlled.ts";
import type { RobotGateway } from "../robots/gateway.ts";
import type { StopReason } from "../robots/motion.ts";
import type { SessionCache, SessionKeys } from "./cache.ts";
import { HolderSnapshot } from "./holders.ts";
import type { AccessSession, AccessStore } from "./store.ts";
import { walletKey } from "./wallet.ts";

export interface AccessOptions {
  readonly sessionMinutes: number;
  readonly sweepMs: number;
  /** How often free robots are asked whether they answer; a quote trusts an answer twice this old. */
  readonly heartbeatMs: number;
}

export interface AccessEvents {
  ended: [session: AccessSession];
}

/** A live session and the robot it holds: what a command, a frame or a stream is sent on behalf of. */
export interface HeldRobot {
  readonly session: AccessSession;
  readonly robot: RobotEntry;
}

// A purchase that lost a race with the same wallet's other purchase is retried this many times.
const GRANT_ATTEMPTS = 3;
// A held robot waits this long for its payment to settle before the sweeper may free it.
const SETTLE_HOLD_MS = 5 * 60_000;
// How long a release waits for its robot to confirm the stop before answering anyway.
const STOP_WAIT_MS = 2000;

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const newToken = () => randomBytes(32).toString("base64url");

/** Time-based access: who holds which robot, until when, and stopping robots when that ends. */
export class AccessService extends EventEmitter<AccessEvents> {
  #sweeper: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #beating: Promise<void> | undefined;
  #probing: Promise<void> | undefined;
  // Pausing and resuming a session's clock are written in the order the robot's outages happened.
  #outageWrites: Promise<void> = Promise.resolve();
  readonly #holders: HolderSnapshot;

  constructor(
    private readonly store: AccessStore,
    private readonly cache: SessionCache,
    private readonly robots: RobotGateway,
    private readonly options: AccessOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.#holders = new HolderSnapshot(() => store.allActive());
    // Paid time is not spent on a robot nobody can drive: its session's clock stops while it is away.
    robots.on("outage", (robotId) => this.#writeOutage(robotId, "pause"));
    robots.on("recovered", (robotId) => this.#writeOutage(robotId, "resume"));
  }

  /**
   * 403 when an admin suspended the robot, 503 when it is not for sale now or its motor board does not
   * answer. A quote (`quote`: the unpaid 402) takes a recent answer as proof; a purchase asks.
   */
  async assertOnline(robot: RobotEntry, { quote = false } = {}): Promise<void> {
    this.robots.assertForSale(robot);
    // A quote takes an answer from the last two heartbeats: its buyer's payment asks again before
    // anything is settled, so a robot gone since costs nobody money, only a signature.
    const info = await this.robots.info(robot, quote ? 2 * this.options.heartbeatMs : undefined);
    if (!info) throw new Refusal("unavailable", `Robot '${robot.id}' is offline.`);
  }

  /**
   * 503 when the robot does not answer, 409 when someone holds it or is paying for it. Racing buyers
   * both passing this check are still decided by `reserve`'s unique index, so a quote reads the holder
   * through the session cache.
   */
  async assertAvailable(robot: RobotEntry, options: { quote?: boolean } = {}): Promise<void> {
    const [, holder] = await Promise.all([
      this.assertOnline(robot, options),
      options.quote ? this.seenHolder(robot) : this.holder(robot),
    ]);
    if (holder) throw new Refusal("conflict", `Robot '${robot.id}' is currently in use.`);
  }

  /**
   * Free mode: binds `wallet` to the robot named `host` at once. 404 when unregistered, 503 when its
   * motor board does not answer, 409 when another wallet holds it. The wallet's previous robot is freed.
   */
  async purchase(wallet: string, host: string): Promise<PurchaseResponse> {
    const robot = this.robots.find(host);
    await this.assertOnline(robot);
    const now = new Date();
    const session = await this.#grant(walletKey(wallet), robot, {
      expiresAt: this.#expiry(now),
      pending: false,
    });
    return this.#purchased(session, now);
  }

  /** Paid mode, before settlement: holds the robot for the payer so nobody else can pay for it. */
  reserve(payer: string, robot: RobotEntry, paymentId: string): Promise<AccessSession> {
    const expiresAt = new Date(Date.now() + SETTLE_HOLD_MS);
    return this.#grant(walletKey(payer), robot, { expiresAt, pending: true, paymentId });
  }

  /** Paid mode, after settlement: the session starts now, and its token goes to the payer only. */
  async activate(held: AccessSession, paymentTx: string | null): Promise<PurchaseResponse | undefined> {
    const token = newToken();
    const now = new Date();
    const session = await this.store.activate(held.id, {
      expiresAt: this.#expiry(now),
      paymentTx,
      tokenHash: hashToken(token),
    });
    if (!session) return undefined;
    await this.#forget(session);
    const response = this.#purchased(session, now);
    return { ...response, session: { ...response.session, token } };
  }

  /**
   * A fresh token for a live session whose purchase answer the payer never received (a retry under the
   * same payment identifier). The old token stops working.
   */
  async reissue(sessionId: string): Promise<PurchaseResponse | undefined> {
    const session = await this.store.byId(sessionId);
    const now = new Date();
    if (!session || session.endedAt || session.pending || session.expiresAt <= now) return undefined;
    const token = newToken();
    await this.store.rotateToken(session.id, hashToken(token));
    await this.#forget(session);
    const response = this.#purchased(session, now);
    return { ...response, session: { ...response.session, token } };
  }

  /** Paid mode: the payment did not settle, so the hold ends and nothing was bought. */
  async abandon(held: AccessSession): Promise<void> {
    for (const ended of await this.store.abandon(held.id, new Date())) await this.#forget(ended);
  }

  /** Lets go of whatever a payment that will never settle was holding. */
  async abandonFor(paymentId: string): Promise<void> {
    for (const ended of await this.store.abandonForPayment(paymentId, new Date())) await this.#forget(ended);
  }

  session(id: string): Promise<AccessSession | undefined> {
    return this.store.byId(id);
  }

  /** The wallet's session as the plan reports it. */
  describe(session: AccessSession | undefined): SessionResponse {
    return session ? toSessionResponse(session, new Date()) : { active: false };
  }

  /**
   * Ends a session and stops its robot. Answers once the robot confirmed the stop (or, if it does not
   * answer, after STOP_WAIT_MS, the stop then retried and owed): a command sent after the answer finds
   * the session ended, and one already on its way reached the robot before the stop.
   */
  async release(session: AccessSession, reason: StopReason = "released"): Promise<AccessSession> {
    const ended = await this.store.release(session.id, new Date());
    if (!ended) throw new Refusal("not_found", "No active session to release.");
    const { stopped } = await this.#ended(ended, reason);
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    return ended;
  }

  /** Ends whoever holds `robot` (it was suspended or deleted) and stops it; nothing when nobody does. */
  async endHolder(robot: RobotEntry, reason: StopReason): Promise<void> {
    const holder = await this.holder(robot);
    if (!holder) return;
    // Another instance may end it first (every instance hears of the change): that is not an error.
    await this.release(holder, reason).catch((error) => {
      if (!isRefusal(error, "not_found")) throw error;
    });
  }

  /** The live session of a wallet, if any (cached: this is on every motor command's path). */
  async forWallet(wallet: string): Promise<AccessSession | undefined> {
    const key = walletKey(wallet);
    return this.#cached(`wallet:${key}`, () => this.store.activeForWallet(key, new Date()));
  }

  /** The live session a bearer token opens, if any. */
  async forToken(token: string): Promise<AccessSession | undefined> {
    const hash = hashToken(token);
    return this.#cached(`token:${hash}`, () => this.store.activeForToken(hash, new Date()));
  }

  /** The robot a live session drives. */
  heldRobot(session: AccessSession): HeldRobot {
    return { session, robot: this.robots.find(session.robotId) };
  }

  /** Who holds a robot now, paid or still settling (undefined when it is free). */
  holder(robot: RobotEntry): Promise<AccessSession | undefined> {
    return this.store.activeForRobot(robot.id, new Date());
  }

  /**
   * Who held a robot at most a second ago (the session cache's rule), for what only informs: a quote,
   * a listing. What decides (a hold, an admin's end) asks `holder`, and the hold's unique index.
   */
  seenHolder(robot: RobotEntry): Promise<AccessSession | undefined> {
    return this.#cached(
      `robot:${robot.id}`,
      () => this.holder(robot),
      () => this.#holders.holder(robot.id),
    );
  }

  /** How many sessions hold a robot now. */
  activeCount(): Promise<number> {
    return this.store.countActive(new Date());
  }

  /** Starts ending lapsed sessions every `sweepMs` (and stopping their robots). */
  startSweeper(): void {
    this.#sweeper ??= setInterval(() => {
      this.#sweeping ??= this.sweep().finally(() => {
        this.#sweeping = undefined;
      });
    }, this.options.sweepMs);
    this.#heartbeat ??= setInterval(() => {
      this.#beating ??= this.heartbeat().finally(() => {
        this.#beating = undefined;
      });
    }, this.options.heartbeatMs / 2);
  }

  /**
   * Asks each robot nobody holds whether it answers, unless it answered within a heartbeat: a buyer's
   * 402 then reads the answer instead of waiting on the robot. Held robots are left alone (their driver
   * proves them; an ask would take the board's one slot from a command).
   */
  async heartbeat(): Promise<void> {
    try {
      for (const robot of this.robots.list()) {
        if (!(await this.#holders.holder(robot.id))) this.robots.refresh(robot, this.options.heartbeatMs);
      }
    } catch (err) {
      this.logger.warn({ err }, "robot heartbeat failed; will retry");
    }
  }

  /**
   * Ends lapsed sessions, and credits paused ones with the outage so far. The robots of paused sessions
   * are probed (in the background), so an outage ends even when nobody on this process is driving, or
   * it was another process, since gone, that saw it begin.
   */
  async sweep(): Promise<void> {
    try {
      const now = new Date();
      // Robots are stopped first; crediting paused sessions can wait the few milliseconds.
      for (const session of await this.store.expireDue(now)) await this.#ended(session, "expired");
      const paused = await this.#inOutageOrder(() => this.store.creditOutage(now, { resume: false }));
      for (const session of paused) await this.#forget(session);
      if (paused.length > 0) {
        this.#probing ??= this.#probePaused(new Set(paused.map((s) => s.robotId))).finally(() => {
          this.#probing = undefined;
        });
      }
    } catch (error) {
      this.logger.error({ err: error }, "session sweep failed; will retry");
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    clearInterval(this.#heartbeat);
    this.#sweeper = undefined;
    this.#heartbeat = undefined;
    await this.#sweeping;
    await this.#beating;
    await this.#probing;
    await this.#outageWrites;
  }

  async #probePaused(robotIds: Set<string>): Promise<void> {
    for (const robotId of robotIds) {
      const robot = this.robots.lookup(robotId);
      // A robot that answers again closes its breaker, whose "recovered" resumes the session.
      if (robot) await this.robots.probe(robot);
    }
  }

  /**
   * Runs writes of the session clock one after another, in the order their times were taken: a credit
   * stamped later never lands before a resume stamped earlier (that would credit time past the outage).
   */
  #inOutageOrder<T>(write: () => Promise<T>): Promise<T> {
    const done = this.#outageWrites.then(write);
    this.#outageWrites = done.then(
      () => {},
      () => {},
    );
    return done;
  }

  #writeOutage(robotId: string, change: "pause" | "resume"): void {
    // Stamped now, not when the write gets its turn: the outage began (or ended) at this moment.
    const now = new Date();
    const write = async () => {
      if (change === "pause") {
        const session = await this.store.pauseForOutage(robotId, now);
        if (!session) return;
        await this.#forget(session);
        this.logger.warn(
          { robot: robotId, wallet: session.wallet },
          "robot unreachable; session clock paused",
        );
        return;
      }
      for (const session of await this.store.creditOutage(now, { robotId, resume: true })) {
        await this.#forget(session);
        this.logger.info(
          { robot: robotId, wallet: session.wallet, expiresAt: session.expiresAt },
          "robot answers again; session extended by the outage",
        );
      }
    };
    this.#inOutageOrder(write).catch((err) =>
      this.logger.error({ err, robot: robotId, change }, "session outage not recorded"),
    );
  }

  /**
   * Tells the session cache that a committed write changed what it may hold. Never throws: the write
   * stands, and its answer (a token that was paid for) must reach the caller. With the shared store away
   * nothing is read from it either; what it held was cached at most a second after its database read
   * (SessionCache), so a store that comes back restarted has lost it or seen it lapse, and one that was
   * only cut off from this server serves it to others for what is left of that second at most.
   */
  #forget(keys: SessionKeys): Promise<void> {
    return this.cache
      .forget(keys)
      .catch((err) => this.logger.warn({ err, wallet: keys.wallet }, "session cache not told of a change"));
  }

  async #grant(
    wallet: string,
    robot: RobotEntry,
    hold: { expiresAt: Date; pending: boolean; paymentId?: string },
  ): Promise<AccessSession> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.store.grant({ wallet, robotId: robot.id, now: new Date(), ...hold });
      if (result.ok) {
        await this.#forget({ wallet, robotId: robot.id });
        // The robot just granted is not stopped: its new holder is about to drive it.
        const stop = (ended: AccessSession) => ended.robotId !== robot.id;
        for (const lapsed of result.lapsed) await this.#ended(lapsed, "expired", stop(lapsed));
        for (const replaced of result.replaced) await this.#ended(replaced, "replaced", stop(replaced));
        this.logger.info({ robot: robot.id, wallet, pending: hold.pending }, "robot held");
        return result.session;
      }
      if (result.reason === "robot_taken")
        throw new Refusal("conflict", `Robot '${robot.id}' is currently in use.`);
      if (attempt >= GRANT_ATTEMPTS) {
        throw new Refusal(
          "conflict",
          "Another purchase by this wallet is still being completed; retry in a moment.",
        );
      }
    }
  }

  #purchased(session: AccessSession, now: Date): PurchaseResponse {
    return {
      status: "success",
      message: `Access granted to '${session.robotId}' for ${this.options.sessionMinutes} minutes`,
      session: toSessionResponse(session, now),
      payment_tx: session.paymentTx,
    };
  }

  #expiry(now: Date): Date {
    return new Date(now.getTime() + this.options.sessionMinutes * 60_000);
  }

  /**
   * The session cache's answer for `key`, else the database's (`load`, then cached). `unmarked` answers
   * instead of `load` when the key carries no mark of a recent write (a snapshot no older than a cached
   * answer could be).
   */
  async #cached(
    key: string,
    load: () => Promise<AccessSession | undefined>,
    unmarked?: () => Promise<AccessSession | undefined>,
  ): Promise<AccessSession | undefined> {
    // The cache only saves time: when the shared store is away, the database answers alone.
    let cached = await this.cache.get(key).catch(() => "changed" as const);
    if (cached === undefined && unmarked) cached = { session: await unmarked() };
    if (cached === undefined || cached === "changed") {
      const readAt = Date.now();
      cached = { session: await load() };
      await this.cache.set(key, cached.session, readAt).catch(() => {});
    }
    return cached.session && cached.session.expiresAt > new Date() ? cached.session : undefined;
  }

  /** Ends what a session may do, then stops its robot: resolves when the stop is under way (not confirmed). */
  async #ended(
    session: AccessSession,
    reason: StopReason,
    stopRobot = true,
  ): Promise<{ stopped: Promise<unknown> }> {
    // Forgotten and fenced before the stop goes out, so no cached grant, nor a command that read the
    // session just before its end, moves the robot behind it.
    await this.#forget(session);
    await this.robots
      .fence(session.id, session.expiresAt)
      .catch((err) =>
        this.logger.error({ err, session: session.id }, "session end not fenced in the shared store"),
      );
    this.logger.info({ robot: session.robotId, wallet: session.wallet, reason }, "access ended");
    this.emit("ended", session);
    return { stopped: stopRobot ? this.#stop(session.robotId, reason) : Promise.resolve() };
  }

  #stop(robotId: string, reason: StopReason): Promise<unknown> {
    const robot = this.robots.lookup(robotId);
    if (robot) return this.robots.stop(robot, reason);
    this.logger.warn({ robot: robotId, reason }, "session ended for a robot no longer registered");
    return Promise.resolve();
  }
}

function toSessionResponse(session: AccessSession, now: Date): SessionResponse {
  return {
    active: true,
    robot_host: session.robotId,
    expires_at: session.expiresAt.toISOString(),
    remaining_seconds: Math.max(0, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000)),
  };
}
