import type { RobotResponse } from "@robo402/protocol";
import { type Caller, canManage } from "./catalog.ts";
import type { CatalogRobot } from "./catalog-store.ts";
import { robotKind } from "./drivers/index.ts";
import { dialsIn } from "./drivers/kind.ts";

/** Of the robot hosts given, those whose link is up now (LinkHub.linkedAmong). */
export type LinkPresence = (hosts: readonly string[]) => Promise<ReadonlySet<string>>;

/** The hosts of `robots` whose link is up now; only robots that dial in are asked about. */
export function linkedAmong(robots: readonly CatalogRobot[], presence: LinkPresence) {
  const hosts = robots.flatMap((robot) =>
    robot.host && dialsIn(robotKind(robot.driver)) ? [robot.host] : [],
  );
  return presence(hosts);
}

/** One robot as the API shows it, its link asked about now. */
export async function shownRobot(
  robot: CatalogRobot,
  viewer: Caller | undefined,
  presence: LinkPresence,
): Promise<RobotResponse> {
  return robotJson(robot, viewer, await linkedAmong([robot], presence));
}

/**
 * A robot as the API shows it; where it is reached only to its owner and admins. `linked` holds the hosts
 * of the robots whose link is up now (see `linkedAmong`).
 */
export function robotJson(
  robot: CatalogRobot,
  viewer: Caller | undefined,
  linked: ReadonlySet<string>,
): RobotResponse {
  const manager = viewer !== undefined && canManage(robot, viewer);
  const kind = robotKind(robot.driver);
  return {
    id: robot.id,
    owner_id: robot.ownerId,
    name: robot.name,
    description: robot.description,
    price: trimDecimal(robot.price),
    currency: "USDC",
    // The API names each family's address on its own.
    wallet_address: robot.payees.evm ?? "",
    solana_address: robot.payees.svm ?? null,
    services: robot.services,
    status: robot.status,
    driver: robot.driver,
    sells: kind.sells,
    host: robot.host,
    control: kind.sells === "time" ? (kind.control ?? "motor") : null,
    linked: dialsIn(kind) ? robot.host !== null && linked.has(robot.host) : null,
    ...(manager && { endpoint: robot.endpoint, camera_url: robot.cameraUrl }),
    suspended: robot.suspendedAt !== null,
    created_at: robot.createdAt.toISOString(),
    metrics: {
      total_executions: robot.executionCount,
      avg_response_time: robot.avgResponseTime,
      success_rate: robot.successRate,
    },
  };
}

/** PostgreSQL's numeric(20,6) reads "0.050000"; people read "0.05". */
export function trimDecimal(value: string): string {
  return value.includes(".") ? value.replace(/\.?0+$/, "") : value;
}
