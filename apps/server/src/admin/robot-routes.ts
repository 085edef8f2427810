import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { RobotCatalogResponse, RobotResponse } from "@robo402/protocol";
import { type AuthEnv, signedIn } from "../auth/middleware.ts";
import { validationHook } from "../http/errors.ts";
import { adminErrors, bearer, errors, json } from "../http/openapi.ts";
import type { RobotCatalog } from "../robots/catalog.ts";
import { type LinkPresence, linkedAmong, robotJson, shownRobot } from "../robots/robot-json.ts";

const RobotId = z.object({ id: z.uuid({ message: "must be a robot id (a UUID)" }) });

const list = createRoute({
  method: "get",
  path: "/robots",
  summary: "Every robot, suspended and inactive ones included",
  security: bearer,
  responses: { 200: json(RobotCatalogResponse, "All robots"), ...adminErrors },
});

const suspend = createRoute({
  method: "post",
  path: "/robots/{id}/suspend",
  summary: "Suspend a robot: it leaves the listing and its calls and purchases get 403",
  security: bearer,
  request: {
    params: RobotId,
    body: {
      content: {
        "application/json": {
          schema: z.object({
            reason: z.string().trim().max(1000, "must be at most 1000 characters").optional(),
          }),
        },
      },
      required: false,
    },
  },
  responses: {
    200: json(RobotResponse, "Suspended"),
    ...adminErrors,
    ...errors({ 404: "No such robot" }),
  },
});

const unsuspend = createRoute({
  method: "post",
  path: "/robots/{id}/unsuspend",
  summary: "Lift a robot's suspension",
  security: bearer,
  request: { params: RobotId },
  responses: {
    200: json(RobotResponse, "Back in the listing"),
    ...adminErrors,
    ...errors({ 404: "No such robot" }),
  },
});

/** `/api/admin/robots*`: the admin's hand on the registry. Mount at `/api/admin` behind `requireRole("admin")`. */
export function adminRobotRoutes(catalog: RobotCatalog, presence: LinkPresence) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(list, async (c) => {
      const viewer = signedIn(c);
      const robots = await catalog.listAll();
      const linked = await linkedAmong(robots, presence);
      return c.json({ robots: robots.map((robot) => robotJson(robot, viewer, linked)) }, 200);
    })
    .openapi(suspend, async (c) => {
      const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
      const robot = await catalog.suspend(c.req.valid("param").id, body.reason ?? null);
      return c.json(await shownRobot(robot, signedIn(c), presence), 200);
    })
    .openapi(unsuspend, async (c) => {
      const robot = await catalog.unsuspend(c.req.valid("param").id);
      return c.json(await shownRobot(robot, signedIn(c), presence), 200);
    });
}
