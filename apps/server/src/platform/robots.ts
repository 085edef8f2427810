import { SessionCache } from "../access/cache.ts";
import { AccessService } from "../access/service.ts";
import { AccessStore } from "../access/store.ts";
import type { Config } from "../config.ts";
import { BREAKER_TIMING } from "../robots/breaker.ts";
import type { UrlCheck } from "../robots/catalog.ts";
import { type ControlledRobots, parseRobots, type RobotEntry, readRobotsFile } from "../robots/controlled.ts";
import { buildDriver } from "../robots/drivers/index.ts";
import { addressGuard, checkRobotUrl, dispatcherThrough } from "../robots/endpoint-guard.ts";
import { RobotGateway } from "../robots/gateway.ts";
import { LinkHub } from "../robots/link/hub.ts";
import { DeviceTokens } from "../robots/link/tokens.ts";
import { MotionGuard, type MotionOptions } from "../robots/motion.ts";
import { OwedStopStore } from "../robots/owed-stops.ts";
import { LocalNameResolver } from "../robots/resolver.ts";
import type { Wiring } from "./shutdown.ts";
import type { Stores } from "./stores.ts";

/** The robots the configuration names: ROBOTS, then ROBOTS_FILE's. */
export const configuredRobots = (config: Pick<Config, "ROBOTS" | "ROBOTS_FILE">): RobotEntry[] => [
  ...parseRobots(config.ROBOTS, "ROBOTS"),
  ...(config.ROBOTS_FILE ? readRobotsFile(config.ROBOTS_FILE) : []),
];

type RobotSettings = Pick<
  Config,
  | "ROBOT_NETWORKS_ALLOWED"
  | "DEADMAN_MS"
  | "STOP_RETRY_ATTEMPTS"
  | "STOP_RETRY_MAX_DELAY_MS"
  | "ROBOT_TIMEOUT_MS"
  | "CAMERA_TIMEOUT_MS"
  | "CAMERA_INTERVAL_MS"
  | "SESSION_DURATION_MINUTES"
  | "SESSION_SWEEP_MS"
  | "ROBOT_HEARTBEAT_MS"
>;

/** The control path: the robots it may reach, their drivers and links, and who holds which. */
export async function wireRobots(
  config: RobotSettings,
  controlled: ControlledRobots,
  { database, kv, pubsub, instance }: Stores,
  onStop: MotionOptions["onStop"],
  { logger, shutdown }: Wiring,
) {
  const resolver = new LocalNameResolver();
  // Every request to an owner's robot (drive or service) connects through the address guard.
  const ownersGuard = addressGuard({ allowedNetworks: config.ROBOT_NETWORKS_ALLOWED });
  const ownersDispatcher = dispatcherThrough(ownersGuard);
  shutdown.add(() => ownersDispatcher.close());
  // Robots behind their owners' routers dial in; whichever instance holds a link serves it to the others.
  const links = new LinkHub(kv, pubsub, instance, config.DEADMAN_MS, logger);
  await links.start();
  shutdown.add(() => links.close());
  const motion = new MotionGuard(kv, new OwedStopStore(database.db), logger, {
    deadmanMs: config.DEADMAN_MS,
    stopAttempts: config.STOP_RETRY_ATTEMPTS,
    stopMaxDelayMs: config.STOP_RETRY_MAX_DELAY_MS,
    onStop,
  });
  shutdown.add(() => motion.close());
  const robots = new RobotGateway(
    controlled,
    (entry) =>
      buildDriver(entry, {
        resolver,
        timeoutMs: config.ROBOT_TIMEOUT_MS,
        cameraTimeoutMs: config.CAMERA_TIMEOUT_MS,
        ownersGuard,
        links,
      }),
    motion,
    { intervalMs: config.CAMERA_INTERVAL_MS, timeoutMs: config.CAMERA_TIMEOUT_MS, idleMs: 5000 },
    { ...BREAKER_TIMING, waitMs: config.ROBOT_TIMEOUT_MS },
    { kv, pubsub, instance },
    logger,
  );
  shutdown.add(() => robots.close());
  // A link going down or up is the robot's outage beginning or ending: asking it through its breaker now
  // pauses (or resumes) its session's clock at once, instead of at the next command.
  const probeLinked = (robotId: string) => {
    const entry = robots.lookup(robotId);
    if (entry) void robots.probe(entry);
  };
  links.on("down", probeLinked);
  links.on("up", probeLinked);
  const access = new AccessService(
    new AccessStore(database.db),
    new SessionCache(kv),
    robots,
    {
      sessionMinutes: config.SESSION_DURATION_MINUTES,
      sweepMs: config.SESSION_SWEEP_MS,
      heartbeatMs: config.ROBOT_HEARTBEAT_MS,
    },
    logger,
  );
  // Owners and admins give robot URLs over the API: the same guard judges them before they are kept.
  const checkUrl: UrlCheck = (url) => checkRobotUrl(url, { allowedNetworks: config.ROBOT_NETWORKS_ALLOWED });
  return { robots, links, access, ownersDispatcher, checkUrl, deviceTokens: new DeviceTokens(database.db) };
}

export type Control = Awaited<ReturnType<typeof wireRobots>>;
