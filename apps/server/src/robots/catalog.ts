import { createHash } from "node:crypto";
import type { RobotCreate, RobotUpdate } from "@robo402/protocol";
import type { Logger } from "pino";
import { type Db, isUniqueViolation } from "../db/client.ts";
import type { Role } from "../db/schema.ts";
import type { Payees } from "../payments/networks.ts";
import { Refusal } from "../refusal.ts";
import type {
  CatalogFilter,
  CatalogRobot,
  CatalogStore,
  ExecutionTally,
  NewCatalogRobot,
} from "./catalog-store.ts";
import { controlledEntry, type RobotEntry } from "./controlled.ts";
import { robotKind } from "./drivers/index.ts";
import { dialsIn, type Registration, type RobotKind } from "./drivers/kind.ts";
import { newDeviceToken } from "./link/tokens.ts";

/** Who asks: enough of an account to decide what it may see and change. */
export interface Caller {
  readonly id: string;
  readonly role: Role;
}

/** Judges a URL given over the API (owners and admins alike): the SSRF guard, robots/endpoint-guard.ts. */
export type UrlCheck = (url: string) => Promise<{ ok: true; url: string } | { ok: false; reason: string }>;

/** A robot the platform's own configuration brings (ROBOTS, the simulators), sold by time. */
export interface ConfiguredDriveRobot {
  readonly entry: RobotEntry;
  readonly price: string;
  /** The platform's payees (PAYMENT_ADDRESS, SOLANA_PAYMENT_ADDRESS or the local chains' ones). */
  readonly payees: Payees;
}

/** A service robot the platform's own configuration brings (the simulated `snapshot`, `data-analysis`). */
export interface ConfiguredServiceRobot {
  readonly name: string;
  readonly description: string;
  readonly endpoint: string;
  readonly services: string[];
  readonly price: string;
  readonly payees: Payees;
}

/**
 * The marketplace's catalog: who may list, see and change which robot. Drive robots (the Tumbllers) are
 * rows like any other; after every change the control path's robots (ControlledRobots) are loaded again from
 * here (`onChange`).
 */
export class RobotCatalog {
  constructor(
    private readonly store: CatalogStore,
    private readonly checkUrl: UrlCheck,
    private readonly logger: Logger,
    /** Given the drive robots after any change (here or, via `reload`, on another instance). */
    private readonly onChange: (driveRobots: RobotEntry[]) => Promise<void>,
    /** Tells the other server instances that the catalog changed (they call `reload`). */
    private readonly announce: () => Promise<void> = async () => {},
  ) {}

  /** Lists robots for the public (active, not suspended) or, with `mine`, the caller's own. */
  async list(filter: { service?: string; mine?: boolean }, caller?: Caller): Promise<CatalogRobot[]> {
    if (!filter.mine) return this.store.list({ service: filter.service });
    if (!caller) throw new Refusal("unauthenticated", "Log in to list your own robots.");
    const query: CatalogFilter = { service: filter.service, includeHidden: true, ownerId: caller.id };
    return this.store.list(query);
  }

  /** Everything, suspended and inactive robots included: the admin's view. */
  listAll(): Promise<CatalogRobot[]> {
    return this.store.list({ includeHidden: true });
  }

  /** The robot `id`; 404 when it does not exist or was deleted. */
  async get(id: string): Promise<CatalogRobot> {
    const robot = await this.store.get(id);
    if (!robot) throw new Refusal("not_found", `Robot ${id} not found.`);
    return robot;
  }

  /** The robot `id` if `caller` owns it or is an admin; 403 otherwise. */
  async getOwned(id: string, caller: Caller): Promise<CatalogRobot> {
    const robot = await this.get(id);
    if (!canManage(robot, caller))
      throw new Refusal("forbidden", "Only this robot's owner or an admin may do that.");
    return robot;
  }

  /** Registers a robot; one that dials in over the robot link comes with its device token, shown this once. */
  async create(input: RobotCreate, caller: Caller): Promise<CatalogRobot & { deviceToken?: string }> {
    const kind = robotKind(input.driver);
    if (kind.sells === "time" && !input.host)
      throw new Refusal("invalid", `host is required: a ${input.driver} robot is bought by its robot_host.`);
    if (kind.sells === "calls" && input.host)
      throw new Refusal(
        "invalid",
        `host is only for robots sold by time; a ${input.driver} robot is called by its id.`,
      );
    const settings = settingsFor(kind, input.driver, input.settings);
    refuseRegistration(kind, { endpoint: input.endpoint ?? "", cameraUrl: input.camera_url ?? null });
    // A robot that dials in has no address to call; every other kind is called at its endpoint.
    const device = dialsIn(kind) ? newDeviceToken() : undefined;
    let endpoint = "";
    if (!device) {
      if (!input.endpoint)
        throw new Refusal(
          "invalid",
          `endpoint is required: the platform calls a ${input.driver} robot there.`,
        );
      endpoint = await this.#checked("endpoint", input.endpoint);
    }
    const cameraUrl = input.camera_url ? await this.#checked("camera_url", input.camera_url) : null;
    let robot: CatalogRobot;
    try {
      robot = await this.store.insert({
        ownerId: caller.id,
        name: input.name,
        description: input.description ?? null,
        price: input.price,
        payees: { evm: input.wallet_address, ...(input.solana_address && { svm: input.solana_address }) },
        services: kind.sells === "time" ? [...kind.services] : input.services,
        endpoint,
        cameraUrl,
        status: input.status ?? "active",
        driver: input.driver,
        host: input.host ?? null,
        settings,
        deviceTokenHash: device?.hash ?? null,
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new Refusal("conflict", `A robot with host '${input.host}' is already registered.`);
      throw error;
    }
    this.logger.info({ robot: robot.id, owner: caller.id, driver: robot.driver }, "robot registered");
    if (robot.host) await this.#changed();
    return device ? { ...robot, deviceToken: device.token } : robot;
  }

  async update(id: string, patch: RobotUpdate, caller: Caller): Promise<CatalogRobot> {
    const robot = await this.getOwned(id, caller);
    const changes: Partial<NewCatalogRobot> = {
      name: patch.name,
      description: patch.description,
      price: patch.price,
      status: patch.status,
    };
    const kind = robotKind(robot.driver);
    if (patch.services) {
      if (kind.sells === "time")
        throw new Refusal("invalid", `A ${robot.driver} robot sells '${kind.services.join("', '")}' only.`);
      changes.services = patch.services;
    }
    if (patch.settings !== undefined) changes.settings = settingsFor(kind, robot.driver, patch.settings);
    if (patch.endpoint || patch.camera_url)
      refuseRegistration(kind, {
        endpoint: patch.endpoint ?? robot.endpoint,
        cameraUrl: patch.camera_url === undefined ? robot.cameraUrl : patch.camera_url,
      });
    if (patch.endpoint) changes.endpoint = await this.#checked("endpoint", patch.endpoint);
    if (patch.camera_url !== undefined)
      changes.cameraUrl = patch.camera_url && (await this.#checked("camera_url", patch.camera_url));
    const payees = withoutUndefined({ evm: patch.wallet_address, svm: patch.solana_address });
    const updated = await this.store.update(id, withoutUndefined(changes), payees);
    if (!updated) throw new Refusal("not_found", `Robot ${id} not found.`);
    if (updated.host) await this.#changed();
    return updated;
  }

  async remove(id: string, caller: Caller): Promise<void> {
    const robot = await this.getOwned(id, caller);
    await this.store.update(id, { deletedAt: new Date() });
    this.logger.info({ robot: id, by: caller.id }, "robot deleted");
    if (robot.host) await this.#changed();
  }

  /** Admin only (the route checks the role): hides the robot and refuses its calls, whatever its owner sets. */
  async suspend(id: string, reason: string | null): Promise<CatalogRobot> {
    await this.get(id);
    const updated = await this.store.update(id, { suspendedAt: new Date(), suspendReason: reason });
    if (!updated) throw new Refusal("not_found", `Robot ${id} not found.`);
    if (updated.host) await this.#changed();
    return updated;
  }

  async unsuspend(id: string): Promise<CatalogRobot> {
    await this.get(id);
    const updated = await this.store.update(id, { suspendedAt: null, suspendReason: null });
    if (!updated) throw new Refusal("not_found", `Robot ${id} not found.`);
    if (updated.host) await this.#changed();
    return updated;
  }

  /** Adds one execution to the robot's counters, inside the caller's transaction (execution's outcome and payment). */
  tally(robotId: string, tally: ExecutionTally, db: Db): Promise<void> {
    return this.store.tally(robotId, tally, db);
  }

  /** Brings the configured robots into the catalog (at start) and loads the control path's robots. */
  async syncConfigured(drive: ConfiguredDriveRobot[], services: ConfiguredServiceRobot[]): Promise<void> {
    await this.#upsertConfigured(drive);
    await this.store.retireUnconfigured(
      drive.map(({ entry }) => entry.id),
      services.map((robot) => configuredId(robot.name)),
    );
    for (const robot of services) {
      await this.store.upsertById({
        id: configuredId(robot.name),
        name: robot.name,
        description: robot.description,
        price: robot.price,
        payees: robot.payees,
        services: robot.services,
        endpoint: robot.endpoint,
        driver: "http-service",
      });
    }
    await this.reload();
  }

  /** Adds drive robots the configuration brings once the platform runs (the linked simulators). */
  async addConfigured(drive: ConfiguredDriveRobot[]): Promise<void> {
    await this.#upsertConfigured(drive);
    await this.#changed();
  }

  async #upsertConfigured(drive: ConfiguredDriveRobot[]): Promise<void> {
    for (const { entry, price, payees } of drive) {
      await this.store.upsertConfigured({
        name: entry.id,
        description: robotKind(entry.driver).description,
        price,
        payees,
        services: ["drive"],
        endpoint: entry.motorUrl,
        cameraUrl: entry.cameraUrl,
        driver: entry.driver,
        host: entry.id,
        settings: entry.settings ?? null,
      });
    }
  }

  /** Reloads the drive robots from the database into the control path (also when another instance changed them). */
  async reload(): Promise<void> {
    const rows = await this.store.driveRobots();
    await this.onChange(rows.map(controlledEntry));
  }

  async #changed(): Promise<void> {
    await this.reload();
    await this.announce();
  }

  async #checked(field: string, url: string): Promise<string> {
    const verdict = await this.checkUrl(url);
    if (!verdict.ok) throw new Refusal("invalid", `${field} refused: ${verdict.reason}`);
    return verdict.url;
  }
}

export const canManage = (robot: CatalogRobot, caller: Caller) =>
  caller.role === "admin" || robot.ownerId === caller.id;

/** A stable id for a robot the configuration names, so restarts update the same row. */
export function configuredId(name: string): string {
  const hex = createHash("sha256").update(`robo402:configured:${name}`).digest("hex");
  // Shaped as a version-4-looking UUID so PostgreSQL's uuid type takes it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The kind's own settings as it reads them (null when it has none); a 422 naming what is wrong otherwise. */
function settingsFor(kind: RobotKind, name: string, settings: unknown): Record<string, unknown> | null {
  const parsed = kind.settings.safeParse(settings ?? null);
  if (parsed.success) return parsed.data as Record<string, unknown> | null;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `settings.${issue.path.join(".")}` : "settings";
  throw new Refusal("invalid", `${where} refused for a ${name} robot: ${issue?.message ?? "invalid"}`);
}

function refuseRegistration(kind: RobotKind, registration: Registration): void {
  const reason = kind.checkRegistration(registration);
  if (reason) throw new Refusal("invalid", reason);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
