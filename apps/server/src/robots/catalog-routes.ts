import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  RobotCatalogResponse,
  RobotCreate,
  RobotListQuery,
  RobotMetricsResponse,
  RobotResponse,
  RobotUpdate,
} from "@robo402/protocol";
import type { MiddlewareHandler } from "hono";
import type { AuthEnv } from "../auth/middleware.ts";
import { signedIn } from "../auth/middleware.ts";
import { validationHook } from "../http/errors.ts";
import { errors, json } from "../http/openapi.ts";
import type { RobotCatalog } from "./catalog.ts";
import { type LinkPresence, linkedAmong, robotJson, shownRobot, trimDecimal } from "./robot-json.ts";

/** Recent payments of a robot, as its metrics show them (the execute domain's sessions). */
export type RecentPayments = (
  robotId: string,
) => Promise<z.infer<typeof RobotMetricsResponse>["recent_payments"]>;

const RobotId = z.object({ id: z.uuid({ message: "must be a robot id (a UUID)" }) });
const needsLogin = errors({ 401: "Not logged in (or the token is invalid)" });

const list = createRoute({
  method: "get",
  path: "/",
  summary: "Robots for sale, with their services, prices and metrics",
  request: { query: RobotListQuery },
  responses: {
    200: json(RobotCatalogResponse, "Active robots (or, with mine=true, all of the caller's)"),
    ...needsLogin,
  },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  summary: "One robot",
  request: { params: RobotId },
  responses: { 200: json(RobotResponse, "The robot"), ...errors({ 404: "No such robot" }) },
});

const create = createRoute({
  method: "post",
  path: "/",
  summary: "Register a robot (robot owners and admins)",
  request: { body: { content: { "application/json": { schema: RobotCreate } }, required: true } },
  responses: {
    201: json(RobotResponse, "Registered"),
    ...needsLogin,
    ...errors({
      403: "Only robot owners and admins register robots",
      409: "The host is taken",
      422: "A field is invalid, or the endpoint points into a private network",
    }),
  },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  summary: "Change a robot (its owner or an admin)",
  request: {
    params: RobotId,
    body: { content: { "application/json": { schema: RobotUpdate } }, required: true },
  },
  responses: {
    200: json(RobotResponse, "Changed"),
    ...needsLogin,
    ...errors({ 403: "Not this robot's owner", 404: "No such robot", 422: "A field is invalid" }),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a robot (its owner or an admin); its payments and executions are kept",
  request: { params: RobotId },
  responses: {
    204: { description: "Deleted" },
    ...needsLogin,
    ...errors({ 403: "Not this robot's owner", 404: "No such robot" }),
  },
});

const metrics = createRoute({
  method: "get",
  path: "/{id}/metrics",
  summary: "Executions, revenue, success rate, response time and recent payments (its owner or an admin)",
  request: { params: RobotId },
  responses: {
    200: json(RobotMetricsResponse, "The robot's metrics"),
    ...needsLogin,
    ...errors({ 403: "Not this robot's owner", 404: "No such robot" }),
  },
});

/** `/api/robots`: the marketplace's registry. `authenticate` has run; `owners` admits robot owners and admins. */
export function catalogRoutes(
  catalog: RobotCatalog,
  recentPayments: RecentPayments,
  owners: MiddlewareHandler,
  presence: LinkPresence,
) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.on("POST", "/", owners);
  return app
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const viewer = c.var.user;
      const mine = query.mine === "true";
      const robots = await catalog.list(
        { service: query.service ?? query.category, mine },
        mine ? signedIn(c) : viewer,
      );
      const linked = await linkedAmong(robots, presence);
      return c.json({ robots: robots.map((robot) => robotJson(robot, viewer, linked)) }, 200);
    })
    .openapi(get, async (c) => {
      const robot = await catalog.get(c.req.valid("param").id);
      return c.json(await shownRobot(robot, c.var.user, presence), 200);
    })
    .openapi(create, async (c) => {
      const caller = signedIn(c);
      const robot = await catalog.create(c.req.valid("json"), caller);
      const token = robot.deviceToken ? { device_token: robot.deviceToken } : {};
      return c.json({ ...(await shownRobot(robot, caller, presence)), ...token }, 201);
    })
    .openapi(update, async (c) => {
      const caller = signedIn(c);
      const robot = await catalog.update(c.req.valid("param").id, c.req.valid("json"), caller);
      return c.json(await shownRobot(robot, caller, presence), 200);
    })
    .openapi(remove, async (c) => {
      await catalog.remove(c.req.valid("param").id, signedIn(c));
      return c.body(null, 204);
    })
    .openapi(metrics, async (c) => {
      const robot = await catalog.getOwned(c.req.valid("param").id, signedIn(c));
      const executions = robot.executionCount;
      return c.json(
        {
          robot_id: robot.id,
          total_executions: executions,
          successful_executions: robot.successCount,
          failed_executions: executions - robot.successCount,
          total_revenue: trimDecimal(robot.totalRevenue),
          success_rate: robot.successRate,
          avg_response_time: robot.avgResponseTime,
          recent_payments: await recentPayments(robot.id),
        },
        200,
      );
    });
}
