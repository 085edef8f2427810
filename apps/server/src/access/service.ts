import { EventEmitter } from "node:events";
import type { PurchaseResponse, SessionResponse } from "@robo402/protocol";
import type { Logger } from "pino";
import { HttpError } from "../http/errors.ts";
import type { StopReason } from "../robots/motion.ts";
import type { RobotEntry } from "../robots/registry.ts";
import type { RobotService } from "../robots/service.ts";
import type { SessionCache } from "./cache.ts";
import type { AccessSession, AccessStore } from "./store.ts";
import { walletKey } from "./wallet.ts";

export interface AccessOptions {
  readonly sessionMinutes: number;
  readonly sweepMs: number;
}

export interface AccessEvents {
  ended: [session: AccessSession];
}

export interface Controller {
  readonly session: AccessSession;
  readonly robot: RobotEntry;
}

// A purchase that lost a race with the same wallet's other purchase is retried this many times.
const GRANT_ATTEMPTS = 3;

/** Time-based access: who holds which robot, until when, and stopping robots when that ends. */
export class AccessService extends EventEmitter<AccessEvents> {
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    private readonly store: AccessStore,
    private readonly cache: SessionCache,
    private readonly robots: RobotService,
    private readonly options: AccessOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  /**
   * Binds `wallet` to the robot named `host`: 404 when unregistered, 503 when its motor board does
   * not answer, 409 when another wallet holds it. The wallet's previous robot, if any, is freed.
   */
  async purchase(wallet: string, host: string, paymentTx: string | null = null): Promise<PurchaseResponse> {
    const robot = this.robots.find(host);
    if (!(await this.robots.info(robot))) throw new HttpError(503, `Robot '${robot.id}' is offline.`);
    const key = walletKey(wallet);
    for (let attempt = 1; ; attempt++) {
      const now = new Date();
      const expiresAt = new Date(now.getTime() + this.options.sessionMinutes * 60_000);
      const result = await this.store.grant({ wallet: key, robotId: robot.id, now, expiresAt, paymentTx });
      if (result.ok) {
        await this.cache.forget(key);
        for (const freed of result.freed) this.#stop(freed, "replaced");
        this.logger.info({ robot: robot.id, wallet: key, expiresAt }, "access granted");
        return {
          status: "success",
          message: `Access granted to '${robot.id}' for ${this.options.sessionMinutes} minutes`,
          session: toSessionResponse(result.session, now),
          payment_tx: paymentTx,
        };
      }
      if (result.reason === "robot_taken" || attempt >= GRANT_ATTEMPTS) {
        throw new HttpError(409, `Robot '${robot.id}' is currently in use.`);
      }
    }
  }

  async status(wallet: string | undefined): Promise<SessionResponse> {
    if (!wallet) return { active: false };
    const now = new Date();
    const session = await this.store.activeForWallet(walletKey(wallet), now);
    return session ? toSessionResponse(session, now) : { active: false };
  }

  /** Ends the wallet's session and stops its robot. 404 when there is nothing to release. */
  async release(wallet: string): Promise<AccessSession> {
    const session = await this.store.release(walletKey(wallet), new Date());
    if (!session) throw new HttpError(404, "No active session to release.");
    await this.#ended(session, "released");
    return session;
  }

  /** The session and robot a wallet controls now; 403 when it has none. */
  async controller(wallet: string): Promise<Controller> {
    const key = walletKey(wallet);
    const now = new Date();
    // The cache only saves time: when the shared store is away, the database answers alone.
    let cached = await this.cache.get(key).catch(() => undefined);
    if (!cached) {
      cached = { session: await this.store.activeForWallet(key, now) };
      await this.cache.set(key, cached.session).catch(() => {});
    }
    const session = cached.session && cached.session.expiresAt > now ? cached.session : undefined;
    if (!session) throw new HttpError(403, "No active session. Purchase access first.");
    return { session, robot: this.robots.find(session.robotId) };
  }

  /** Who holds a robot now (undefined when it is free). */
  holder(robot: RobotEntry): Promise<AccessSession | undefined> {
    return this.store.activeForRobot(robot.id, new Date());
  }

  /** Starts ending lapsed sessions every `sweepMs` (and stopping their robots). */
  startSweeper(): void {
    this.#sweeper ??= setInterval(() => {
      this.#sweeping ??= this.sweep().finally(() => {
        this.#sweeping = undefined;
      });
    }, this.options.sweepMs);
  }

  async sweep(): Promise<void> {
    try {
      for (const session of await this.store.expireDue(new Date())) await this.#ended(session, "expired");
    } catch (error) {
      this.logger.error({ err: error }, "session sweep failed; will retry");
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await this.#sweeping;
  }

  async #ended(session: AccessSession, reason: StopReason): Promise<void> {
    // Forgotten before the stop goes out, so no cached grant lets a command slip in behind it.
    await this.cache
      .forget(session.wallet)
      .catch((err) => this.logger.warn({ err }, "session cache not cleared"));
    this.logger.info({ robot: session.robotId, wallet: session.wallet, reason }, "access ended");
    this.emit("ended", session);
    this.#stop(session.robotId, reason);
  }

  #stop(robotId: string, reason: StopReason): void {
    const robot = this.robots.lookup(robotId);
    if (robot) void this.robots.stop(robot, reason);
    else this.logger.warn({ robot: robotId, reason }, "session ended for a robot no longer registered");
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
