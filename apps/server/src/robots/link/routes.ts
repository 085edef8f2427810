import { upgradeWebSocket } from "@hono/node-server";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { LINK_PATH } from "@robo402/protocol";
import { Hono, type MiddlewareHandler } from "hono";
import type { WSEvents } from "hono/ws";
import type { Logger } from "pino";
import type { AuthEnv } from "../../auth/middleware.ts";
import { signedIn } from "../../auth/middleware.ts";
import { HttpError, validationHook } from "../../http/errors.ts";
import { errors, json } from "../../http/openapi.ts";
import { Refusal } from "../../refusal.ts";
import type { Caller } from "../catalog.ts";
import type { CatalogRobot } from "../catalog-store.ts";
import { robotKind } from "../drivers/index.ts";
import { dialsIn } from "../drivers/kind.ts";
import type { LinkConnection } from "./connection.ts";
import type { LinkHub } from "./hub.ts";
import type { DeviceTokens, LinkedRobot } from "./tokens.ts";

const REFUSED =
  "Device token not accepted: it is wrong, was rotated, or belongs to a deleted robot. Get a new one on the robot's page (POST /api/robots/{id}/device-token).";

/**
 * `GET /api/v1/link`: a robot (or the robo402-link bridge beside it) dials in with
 * `Authorization: Bearer <device token>` and upgrades to the link's WebSocket. Attempts are rate-limited
 * per address (`limit`, counted before the token is looked at) and every refusal is logged.
 */
export function linkRoutes(
  hub: LinkHub,
  tokens: { robotFor(token: string): Promise<LinkedRobot | undefined> },
  limit: MiddlewareHandler,
  address: (c: Parameters<MiddlewareHandler>[0]) => string,
  logger: Logger,
): Hono<{ Variables: { linkRobot: string } }> {
  return new Hono<{ Variables: { linkRobot: string } }>().get(
    LINK_PATH,
    limit,
    async (c, next) => {
      const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
      const robot = token ? await tokens.robotFor(token) : undefined;
      if (!robot) {
        logger.warn(
          { address: address(c), reason: token ? "unknown device token" : "no device token" },
          "robot link refused",
        );
        throw new Refusal(
          "unauthenticated",
          token ? REFUSED : "Send the robot's device token as Authorization: Bearer <token>.",
        );
      }
      if (robot.suspended) {
        logger.warn({ address: address(c), robot: robot.host }, "robot link refused: robot suspended");
        throw new Refusal(
          "forbidden",
          `Robot '${robot.host}' is suspended by an administrator; its link is refused.`,
        );
      }
      c.set("linkRobot", robot.host);
      await next();
    },
    upgradeWebSocket((c) => linkEvents(hub, c.get("linkRobot"), logger)),
    () => {
      throw new HttpError(
        426,
        "This is the robot link's WebSocket endpoint: connect with a WebSocket client.",
      );
    },
  );
}

function linkEvents(hub: LinkHub, robotId: string, logger: Logger): WSEvents {
  let connection: LinkConnection | undefined;
  let closed = false;
  return {
    onOpen: (_event, ws) => {
      const raw = ws.raw as { terminate(): void };
      hub
        .attach(robotId, {
          send: (data) => ws.send(data as string | Uint8Array<ArrayBuffer>),
          close: (code, reason) => ws.close(code, reason),
          terminate: () => raw.terminate(),
        })
        .then((attached) => {
          connection = attached;
          if (closed) hub.detach(attached);
        })
        .catch((err: unknown) => {
          logger.error({ err, robot: robotId }, "robot link could not be attached");
          ws.close(1011, "Internal error");
        });
    },
    // What arrives before the link is attached is a heartbeat at most: nothing waits for it.
    onMessage: (event) => connection?.receive(event.data as string | ArrayBuffer),
    onClose: () => {
      closed = true;
      if (connection) hub.detach(connection);
    },
  };
}

const RobotId = z.object({ id: z.uuid({ message: "must be a robot id (a UUID)" }) });
const DeviceTokenResponse = z.object({
  robot_id: z.uuid(),
  /** Shown this once; only its hash is kept. */
  device_token: z.string(),
});

const rotate = createRoute({
  method: "post",
  path: "/{id}/device-token",
  summary: "A new device token for a robot that dials in over the robot link (its owner or an admin)",
  description:
    "Replaces the robot's device token: the old one stops working at once and a link using it is closed. The token is shown only in this answer.",
  request: { params: RobotId },
  responses: {
    200: json(DeviceTokenResponse, "The new token"),
    ...errors({
      401: "Not logged in",
      403: "Not this robot's owner",
      404: "No such robot",
      422: "The robot does not dial in over the link",
    }),
  },
});

/** `POST /api/robots/{id}/device-token`, under the catalog's authenticated routes. */
export function deviceTokenRoutes(
  getOwned: (id: string, caller: Caller) => Promise<CatalogRobot>,
  tokens: DeviceTokens,
  hub: LinkHub,
  logger: Logger,
): OpenAPIHono<AuthEnv> {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook }).openapi(rotate, async (c) => {
    const caller = signedIn(c);
    const robot = await getOwned(c.req.valid("param").id, caller);
    if (!dialsIn(robotKind(robot.driver)) || !robot.host)
      throw new Refusal(
        "invalid",
        `Robot ${robot.id} is reached over HTTP; only a robot registered with driver "link" has a device token.`,
      );
    const token = await tokens.rotate(robot.id);
    await hub.revoke(robot.host);
    logger.info({ robot: robot.id, by: caller.id }, "device token rotated");
    return c.json({ robot_id: robot.id, device_token: token }, 200);
  });
}
