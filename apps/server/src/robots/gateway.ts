import { EventEmitter } from "node:events";
import { MOTOR_COMMANDS, type MotorCommand, type Velocity } from "@robo402/protocol";
import type { Logger } from "pino";
import { Refusal } from "../refusal.ts";
import { BoardBreaker, type BreakerOptions, guardDriver } from "./breaker.ts";
import { CameraFeed, type CameraOptions, type CameraShare, type Frame } from "./camera.ts";
import type { ControlledRobots, RobotEntry } from "./controlled.ts";
import { RobotBadAnswerError, type RobotDriver, type RobotInfo, RobotUnavailableError } from "./driver.ts";
import { type MotionGuard, SessionEndedError, type StopReason } from "./motion.ts";

export type DriverFactory = (entry: RobotEntry) => RobotDriver;

// Status pages are polled by every visitor; the motor board serves one client at a time.
const INFO_CACHE_MS = 1000;
// A frame younger than this says the camera is up.
const CAMERA_SEEN_MS = 5000;

export interface RobotEvents {
  /** A robot's motor board stopped answering this process. */
  outage: [robotId: string];
  /** It answers again. */
  recovered: [robotId: string];
}

/**
 * The one way to talk to the robots the platform knows (ControlledRobots). Every call to a robot goes through
 * its board's breaker: one request in flight per board, and a failing board refused fast.
 */
export class RobotGateway extends EventEmitter<RobotEvents> {
  readonly #drivers = new Map<string, RobotDriver>();
  readonly #cameras = new Map<string, CameraFeed>();
  readonly #info = new Map<string, { at: number; info: Promise<RobotInfo | null>; answered?: true }>();

  constructor(
    private readonly controlled: ControlledRobots,
    private readonly makeDriver: DriverFactory,
    private readonly motion: MotionGuard,
    private readonly cameraOptions: CameraOptions,
    private readonly breaker: BreakerOptions,
    private readonly share: CameraShare,
    private readonly logger: Logger,
  ) {
    super();
    motion.watch(() =>
      this.controlled.list().map((entry) => ({ id: entry.id, driver: this.#driver(entry) })),
    );
  }

  /** The registered robot named `host`; anything else is refused before any request leaves. */
  find(host: string): RobotEntry {
    const entry = this.lookup(host);
    if (!entry) throw new Refusal("not_found", `Robot '${host}' is not registered.`);
    return entry;
  }

  lookup(host: string): RobotEntry | undefined {
    return this.controlled.get(host);
  }

  list(): RobotEntry[] {
    return this.controlled.list();
  }

  /**
   * Takes a new set of robots (the catalog changed). A robot whose addresses changed gets a new driver and
   * camera poller; one that left is stopped being watched.
   */
  reload(entries: RobotEntry[]): void {
    const next = new Map(entries.map((entry) => [entry.id, entry]));
    for (const previous of this.controlled.list()) {
      const entry = next.get(previous.id);
      if (entry && entry.motorUrl === previous.motorUrl && entry.cameraUrl === previous.cameraUrl) continue;
      this.#drivers.delete(previous.id);
      this.#info.delete(previous.id);
      void this.#cameras.get(previous.id)?.close();
      this.#cameras.delete(previous.id);
    }
    this.controlled.replace(entries);
  }

  /** Refuses a robot its listing does not offer for sale now: suspended (403) or not active (503). */
  assertForSale(entry: RobotEntry): void {
    const listing = entry.listing;
    if (!listing) return;
    if (listing.suspended)
      throw new Refusal(
        "forbidden",
        `Robot '${entry.id}' is suspended by an administrator and cannot be bought.`,
      );
    if (listing.status !== "active")
      throw new Refusal(
        "unavailable",
        `Robot '${entry.id}' is ${listing.status}; it cannot be bought right now.`,
      );
  }

  /**
   * The motor board's /info, or null when it does not answer (cached for a second). `trustAnswerMs`
   * accepts an answer up to that old instead (not a silence: a robot that did not answer is asked again).
   */
  info(entry: RobotEntry, trustAnswerMs = INFO_CACHE_MS): Promise<RobotInfo | null> {
    const cached = this.#info.get(entry.id);
    const age = cached ? Date.now() - cached.at : Number.POSITIVE_INFINITY;
    if (cached && (age < INFO_CACHE_MS || (age < trustAnswerMs && cached.answered))) return cached.info;
    return this.#ask(entry);
  }

  /** Asks the motor board again, without waiting, when what it last said (or did not) is `maxAgeMs` old. */
  refresh(entry: RobotEntry, maxAgeMs: number): void {
    const cached = this.#info.get(entry.id);
    if (!cached || Date.now() - cached.at >= maxAgeMs) void this.#ask(entry);
  }

  /** Whether the motor board answers now (asked through its breaker, not the status cache). */
  async probe(entry: RobotEntry): Promise<boolean> {
    return (await this.#ask(entry)) !== null;
  }

  #ask(entry: RobotEntry): Promise<RobotInfo | null> {
    const asked: { at: number; info: Promise<RobotInfo | null>; answered?: true } = {
      at: Date.now(),
      info: this.#driver(entry)
        .info()
        .catch(() => null)
        .then((info) => {
          if (info) asked.answered = true;
          return info;
        }),
    };
    this.#info.set(entry.id, asked);
    return asked.info;
  }

  /**
   * Sends a session's motor command to its robot: 409 when the session ended meanwhile, 422 when the robot
   * takes velocities (it takes `stop` too).
   */
  command(entry: RobotEntry, command: MotorCommand, session?: string): Promise<void> {
    const driver = this.#driver(entry);
    if (driver.velocity && command !== "stop")
      throw new Refusal(
        "invalid",
        `Robot '${entry.id}' takes velocity commands, not '${command}': POST /api/v1/robot/velocity with {"linear", "angular"}, each from -1 to 1 (or GET /api/v1/robot/motor/stop).`,
      );
    return this.#drive(entry, driver, command, session);
  }

  /** Sends a session's velocity to its robot: 422 when the robot takes motor commands instead. */
  velocity(entry: RobotEntry, velocity: Velocity, session?: string): Promise<void> {
    const driver = this.#driver(entry);
    if (!driver.velocity)
      throw new Refusal(
        "invalid",
        `Robot '${entry.id}' takes motor commands, not a velocity: GET /api/v1/robot/motor/{${MOTOR_COMMANDS.join("|")}}.`,
      );
    return this.#drive(entry, driver, velocity, session);
  }

  async #drive(
    entry: RobotEntry,
    driver: RobotDriver,
    command: MotorCommand | Velocity,
    session: string | undefined,
  ): Promise<void> {
    try {
      await this.motion.drive(entry.id, driver, command, session, driver.deadmanMs);
    } catch (error) {
      if (error instanceof RobotUnavailableError) throw new Refusal("unavailable", `Robot ${error.message}`);
      if (error instanceof SessionEndedError)
        throw new Refusal(
          "conflict",
          "This session has ended (released, expired or replaced); buy a new one to drive.",
        );
      throw error;
    }
  }

  /** Refuses the session's commands from now on, on every instance (before its robot is stopped). */
  fence(session: string, expiresAt: Date): Promise<void> {
    return this.motion.fence(session, expiresAt);
  }

  stop(entry: RobotEntry, reason: StopReason): Promise<boolean> {
    return this.motion.stop(entry.id, this.#driver(entry), reason);
  }

  async frame(entry: RobotEntry): Promise<Frame> {
    try {
      return await this.camera(entry).frame();
    } catch (error) {
      // The camera answered, but not with a picture: the platform's upstream is at fault, not down.
      throw new Refusal(
        error instanceof RobotBadAnswerError ? "robot_failed" : "unavailable",
        `Robot ${(error as Error).message}`,
      );
    }
  }

  camera(entry: RobotEntry): CameraFeed {
    let feed = this.#cameras.get(entry.id);
    if (!feed) {
      feed = new CameraFeed(entry.id, this.#driver(entry), this.cameraOptions, this.share, this.logger);
      this.#cameras.set(entry.id, feed);
    }
    return feed;
  }

  /** Whether the camera answered lately, asking it (through the shared poller) if it has not. */
  async cameraOnline(entry: RobotEntry): Promise<boolean> {
    const feed = this.camera(entry);
    const latest = feed.latest;
    if (latest && Date.now() - latest.at < 5000) return true;
    return feed.frame().then(
      () => true,
      () => false,
    );
  }

  /**
   * The camera as last seen, without asking it: up when a frame came lately, down when the last poll
   * failed, undefined when nobody has watched it (metrics must not start a poller per scrape).
   */
  cameraSeen(entry: RobotEntry): boolean | undefined {
    const feed = this.#cameras.get(entry.id);
    if (feed?.latest && Date.now() - feed.latest.at < CAMERA_SEEN_MS) return true;
    return feed?.lastError === undefined ? undefined : false;
  }

  cameraAddress(entry: RobotEntry): Promise<RobotInfo> {
    return this.#driver(entry).cameraAddress();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#cameras.values()].map((feed) => feed.close()));
  }

  #driver(entry: RobotEntry): RobotDriver {
    let driver = this.#drivers.get(entry.id);
    if (!driver) {
      const robotId = entry.id;
      const motor = new BoardBreaker("motor", this.breaker, {
        opened: (reason) => {
          // What it answered before is no longer to be trusted.
          this.#info.delete(robotId);
          this.logger.warn({ robot: robotId, reason }, "robot motor board not answering");
          this.emit("outage", robotId);
        },
        closed: () => {
          this.logger.info({ robot: robotId }, "robot motor board answers again");
          this.emit("recovered", robotId);
          this.motion.recovered(robotId, guarded);
        },
      });
      const guarded: RobotDriver = guardDriver(
        this.makeDriver(entry),
        motor,
        new BoardBreaker("camera", this.breaker),
      );
      driver = guarded;
      this.#drivers.set(robotId, driver);
    }
    return driver;
  }
}
