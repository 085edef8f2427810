import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { robotListRoutes, robotRoutes } from "../access/control-routes.ts";
import { accessRoutes } from "../access/routes.ts";
import { adminRobotRoutes } from "../admin/robot-routes.ts";
import { adminUserRoutes } from "../admin/user-routes.ts";
import { requireRole } from "../auth/middleware.ts";
import { authRoutes } from "../auth/routes.ts";
import type { Config } from "../config.ts";
import { recentPaymentJson } from "../execute/json.ts";
import { listingRoutes } from "../execute/listing-routes.ts";
import { executeRoutes } from "../execute/routes.ts";
import { adminUnmatchedRoutes, unmatchedRoutes } from "../payments/unmatched-routes.ts";
import { sessionSocketRoutes } from "../realtime/routes.ts";
import { catalogRoutes } from "../robots/catalog-routes.ts";
import { deviceTokenRoutes, linkRoutes } from "../robots/link/routes.ts";
import type { guardRoutes } from "./guards.ts";
import type { Served } from "./http.ts";

/** The API's routes, after the guards that guard them. */
export function apiRoutes(
  app: OpenAPIHono,
  config: Pick<Config, "PAYMENT_ENABLED" | "SESSION_DURATION_MINUTES" | "SESSION_PRICE">,
  { payments: { network }, control, purchase, catalog, market }: Served,
  limits: ReturnType<typeof guardRoutes>,
  logger: Logger,
): void {
  const { access, robots, links, deviceTokens } = control;
  const { accounts, executions, call, transfers, unmatched, sessionEvents } = market;
  app.route(
    "/api/v1/access",
    accessRoutes(access, purchase.controlAuth, purchase.buy, {
      network: network?.id ?? null,
      payTo: network?.payTo ?? null,
      paymentEnabled: config.PAYMENT_ENABLED,
      sessionMinutes: config.SESSION_DURATION_MINUTES,
      sessionPrice: config.SESSION_PRICE,
    }),
  );
  app.route("/api/v1/robot", robotRoutes(robots, access, purchase.controlAuth));
  app.route("/api/v1/robots", robotListRoutes(robots, access));
  app.route("/", linkRoutes(links, deviceTokens, limits.link, limits.clientAddress, logger));

  app.route("/api/auth", authRoutes(accounts));
  app.route("/api/admin", adminUserRoutes(accounts));
  // Whether a robot that dials in has its link up now: read where the link's holder is recorded.
  const linkPresence = (hosts: readonly string[]) => links.linkedAmong(hosts);
  app.route("/api/admin", adminRobotRoutes(catalog, linkPresence));
  app.route("/api/admin", listingRoutes(executions, catalog, true));
  app.route("/api/admin", adminUnmatchedRoutes(unmatched));
  app.route(
    "/api/robots",
    catalogRoutes(
      catalog,
      async (robotId) => (await executions.recentPayments(robotId)).map(recentPaymentJson),
      requireRole("robot_owner", "admin"),
      linkPresence,
    ),
  );
  app.route(
    "/api/robots",
    deviceTokenRoutes((id, caller) => catalog.getOwned(id, caller), deviceTokens, links, logger),
  );
  app.route("/api", executeRoutes(executions, call, limits.execute, transfers));
  app.route("/api", unmatchedRoutes(unmatched, catalog));
  app.route("/api", listingRoutes(executions, catalog));
  app.route(
    "/",
    sessionSocketRoutes(sessionEvents, (id) => executions.status(id), logger),
  );
}
