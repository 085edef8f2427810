import type { MotorCommand } from "@robo402/protocol";
import type { Logger } from "pino";
import { HttpError } from "../http/errors.ts";
import { CameraFeed, type CameraOptions, type Frame } from "./camera.ts";
import { type RobotDriver, type RobotInfo, RobotUnavailableError } from "./driver.ts";
import type { MotionGuard, StopReason } from "./motion.ts";
import type { RobotEntry, RobotRegistry } from "./registry.ts";

export type DriverFactory = (entry: RobotEntry) => RobotDriver;

// Status pages are polled by every visitor; the motor board serves one client at a time.
const INFO_CACHE_MS = 1000;

/** The robots the platform knows, and the one way to talk to them. */
export class RobotService {
  readonly #drivers = new Map<string, RobotDriver>();
  readonly #cameras = new Map<string, CameraFeed>();
  readonly #info = new Map<string, { at: number; info: Promise<RobotInfo | null> }>();

  constructor(
    private readonly registry: RobotRegistry,
    private readonly makeDriver: DriverFactory,
    private readonly motion: MotionGuard,
    private readonly cameraOptions: CameraOptions,
    private readonly logger: Logger,
  ) {}

  /** The registered robot named `host`; anything else is refused before any request leaves. */
  find(host: string): RobotEntry {
    const entry = this.lookup(host);
    if (!entry) throw new HttpError(404, `Robot '${host}' is not registered.`);
    return entry;
  }

  lookup(host: string): RobotEntry | undefined {
    return this.registry.get(host);
  }

  list(): RobotEntry[] {
    return this.registry.list();
  }

  /**
   * Takes a new set of robots (the catalog changed). A robot whose addresses changed gets a new driver and
   * camera poller; one that left is stopped being watched.
   */
  reload(entries: RobotEntry[]): void {
    const next = new Map(entries.map((entry) => [entry.id, entry]));
    for (const previous of this.registry.list()) {
      const entry = next.get(previous.id);
      if (entry && entry.motorUrl === previous.motorUrl && entry.cameraUrl === previous.cameraUrl) continue;
      this.#drivers.delete(previous.id);
      this.#info.delete(previous.id);
      this.#cameras.get(previous.id)?.close();
      this.#cameras.delete(previous.id);
    }
    this.registry.replace(entries);
  }

  /** Refuses a robot its listing does not offer for sale now: suspended (403) or not active (503). */
  assertForSale(entry: RobotEntry): void {
    const listing = entry.listing;
    if (!listing) return;
    if (listing.suspended)
      throw new HttpError(403, `Robot '${entry.id}' is suspended by an administrator and cannot be bought.`);
    if (listing.status !== "active")
      throw new HttpError(503, `Robot '${entry.id}' is ${listing.status}; it cannot be bought right now.`);
  }

  /** The motor board's /info, or null when it does not answer (cached for a second). */
  info(entry: RobotEntry): Promise<RobotInfo | null> {
    const cached = this.#info.get(entry.id);
    if (cached && Date.now() - cached.at < INFO_CACHE_MS) return cached.info;
    const info = this.#driver(entry)
      .info()
      .catch(() => null);
    this.#info.set(entry.id, { at: Date.now(), info });
    return info;
  }

  async command(entry: RobotEntry, command: MotorCommand): Promise<void> {
    try {
      await this.motion.drive(entry.id, this.#driver(entry), command);
    } catch (error) {
      if (error instanceof RobotUnavailableError) throw new HttpError(503, "Robot motor offline");
      throw error;
    }
  }

  stop(entry: RobotEntry, reason: StopReason): Promise<boolean> {
    return this.motion.stop(entry.id, this.#driver(entry), reason);
  }

  async frame(entry: RobotEntry): Promise<Frame> {
    try {
      return await this.camera(entry).frame();
    } catch {
      throw new HttpError(503, "Robot camera offline");
    }
  }

  camera(entry: RobotEntry): CameraFeed {
    let feed = this.#cameras.get(entry.id);
    if (!feed) {
      feed = new CameraFeed(entry.id, this.#driver(entry), this.cameraOptions, this.logger);
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

  cameraAddress(entry: RobotEntry): Promise<RobotInfo> {
    return this.#driver(entry).cameraAddress();
  }

  close(): void {
    for (const feed of this.#cameras.values()) feed.close();
  }

  #driver(entry: RobotEntry): RobotDriver {
    let driver = this.#drivers.get(entry.id);
    if (!driver) {
      driver = this.makeDriver(entry);
      this.#drivers.set(entry.id, driver);
    }
    return driver;
  }
}
