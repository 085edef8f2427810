import { readFileSync } from "node:fs";
import { type RobotDriver, RobotDriver as RobotDriverName } from "@robo402/protocol";
import { z } from "zod";
import type { Payees } from "../payments/networks.ts";
import type { CatalogRobot } from "./catalog-store.ts";
import { robotKind } from "./drivers/index.ts";

/** A robot sold by time that the platform may talk to. Nothing outside ControlledRobots is ever contacted. */
export interface RobotEntry {
  /** The canonical `robot_host` (lower case): an mDNS name or an IPv4 address. */
  readonly id: string;
  /** Its kind (robots/drivers), which builds its driver from the rest of this entry. */
  readonly driver: RobotDriver;
  /** Where the platform calls it; a kind it does not call over HTTP leaves these unused. */
  readonly motorUrl: string;
  readonly cameraUrl: string;
  /** The kind's own settings (`robots.settings`), valid for its kind's schema. */
  readonly settings?: Record<string, unknown> | null;
  /**
   * The account that registered it. Its addresses are an owner's word and are called only through the
   * connect-time address guard; absent for the robots the operator configured (ROBOTS, simulators).
   */
  readonly ownerId?: string;
  /** How the marketplace sells it; absent until the catalog has listed it. */
  readonly listing?: Listing;
}

/** A drive robot's terms in the catalog: what a session costs, who is paid, and whether it is for sale. */
export interface Listing {
  readonly robotId: string;
  /** USDC per session, decimal string. */
  readonly price: string;
  /** Where it is paid, by chain family; it is not sold on a family it names no address for. */
  readonly payees: Payees;
  readonly status: "active" | "inactive" | "maintenance";
  readonly suspended: boolean;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const isIpv4 = (host: string) => IPV4.test(host);

const Host = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (h) => isIpv4(h) || HOSTNAME.test(h),
    "must be an mDNS name like finland-tumbller-01 or an IPv4 address",
  );
const BaseUrl = z
  .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
  .transform((u) => u.replace(/\/+$/, ""));
// A bare string is shorthand for `{host}`.
const RobotSpec = z.preprocess(
  (value) => (typeof value === "string" ? { host: value } : value),
  z
    .object({
      host: Host,
      motor_url: BaseUrl.optional(),
      camera_url: BaseUrl.optional(),
      // A kind the platform calls over HTTP, and its own settings (a velocity robot's limits).
      driver: RobotDriverName.default("tumbller").refine((name) => {
        const kind = robotKind(name);
        return kind.sells === "time" && !kind.dialsIn;
      }, "must be a kind driven over HTTP, like tumbller or velocity"),
      settings: z.unknown().optional(),
    })
    .superRefine((spec, ctx) => {
      const parsed = robotKind(spec.driver).settings.safeParse(spec.settings ?? null);
      const issue = parsed.error?.issues[0];
      if (issue) ctx.addIssue({ code: "custom", path: ["settings", ...issue.path], message: issue.message });
    }),
);
const RobotSpecs = z.array(RobotSpec);

// The robots an operator lists are on the operator's network: the Tumbller's HTTP firmware unless it says.
function toEntry(spec: z.infer<typeof RobotSpec>): RobotEntry {
  const kind = robotKind(spec.driver);
  const fallback = kind.sells === "time" ? kind.addresses(spec.host) : { motorUrl: "", cameraUrl: "" };
  return {
    id: spec.host,
    driver: spec.driver,
    motorUrl: spec.motor_url ?? fallback.motorUrl,
    cameraUrl: spec.camera_url ?? fallback.cameraUrl,
    ...(spec.settings !== undefined && { settings: spec.settings as Record<string, unknown> }),
  };
}

/**
 * Parses robots as configured: a comma-separated list of hosts (`finland-tumbller-01,192.168.1.50`)
 * or a JSON list of hosts and `{host, motor_url, camera_url}` objects.
 */
export function parseRobots(text: string, source: string): RobotEntry[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let raw: unknown;
  if (trimmed.startsWith("[")) {
    try {
      raw = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
    }
  } else {
    raw = trimmed.split(",").map((part) => part.trim());
  }
  const parsed = RobotSpecs.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const [index, ...fields] = issue?.path ?? [];
    const field = fields.map(String).join(".");
    const where = typeof index === "number" ? `robot ${index + 1}${field ? ` ${field}` : ""}` : "list";
    throw new Error(`${source}: ${where} ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data.map(toEntry);
}

export function readRobotsFile(path: string): RobotEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`ROBOTS_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseRobots(text, `ROBOTS_FILE ${path}`);
}

/**
 * The drive robots the control path may reach: the catalog's drive robots (RobotCatalog), loaded again
 * after every change. RobotGateway is how they are talked to.
 */
export class ControlledRobots {
  #byId = new Map<string, RobotEntry>();

  constructor(entries: Iterable<RobotEntry>) {
    this.replace(entries);
  }

  /** Swaps the whole set at once (the catalog reloads it when a robot is added or changed). */
  replace(entries: Iterable<RobotEntry>): void {
    const byId = new Map<string, RobotEntry>();
    for (const entry of entries) {
      if (byId.has(entry.id)) throw new Error(`robot '${entry.id}' is registered twice`);
      byId.set(entry.id, entry);
    }
    this.#byId = byId;
  }

  /** Case-insensitive, like the plan's hosts. */
  get(host: string): RobotEntry | undefined {
    return this.#byId.get(host.trim().toLowerCase());
  }

  list(): RobotEntry[] {
    return [...this.#byId.values()];
  }
}

/** A drive robot's catalog row as the control path holds it. */
export function controlledEntry(row: CatalogRobot): RobotEntry {
  return {
    id: row.host ?? row.id,
    driver: row.driver,
    motorUrl: row.endpoint,
    cameraUrl: row.cameraUrl ?? row.endpoint,
    settings: row.settings,
    ...(row.ownerId && { ownerId: row.ownerId }),
    listing: {
      robotId: row.id,
      price: row.price,
      payees: row.payees,
      status: row.status,
      suspended: row.suspendedAt !== null,
    },
  };
}
