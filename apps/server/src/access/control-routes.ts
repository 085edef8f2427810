import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  CommandResponse,
  MOTOR_COMMANDS,
  MotorCommand,
  RobotHost,
  RobotListResponse,
  RobotStatusResponse,
  Velocity,
  VelocityResponse,
} from "@robo402/protocol";
import { stream } from "hono/streaming";
import { validationHook } from "../http/errors.ts";
import { errors, json } from "../http/openapi.ts";
import { Refusal } from "../refusal.ts";
import type { Frame } from "../robots/camera.ts";
import type { RobotGateway } from "../robots/gateway.ts";
import type { ControlAuth } from "./identity.ts";
import type { AccessService } from "./service.ts";
import { maskWallet } from "./wallet.ts";

const controlErrors = errors({
  401: "No wallet or credentials given",
  403: "The caller holds no robot",
  503: "The robot does not answer",
});

const motor = createRoute({
  method: "get",
  path: "/motor/{command}",
  summary: "Drive the robot bound to the caller's session",
  description:
    "forward/back run for 2 s and turns for 1 s unless repeated; the server stops the robot when commands stop arriving.",
  request: { params: z.object({ command: MotorCommand }) },
  responses: {
    200: json(CommandResponse, "The robot took the command"),
    ...controlErrors,
    ...errors({ 404: "No such motor command" }),
  },
});

const velocity = createRoute({
  method: "post",
  path: "/velocity",
  summary: "Drive a velocity robot bound to the caller's session",
  description:
    "linear and angular, each from -1 to 1: fractions of the robot's own limits (its owner sets them). Send about ten a second while moving: the robot is stopped when none came for its watchdog time (at most 1 s).",
  request: { body: { content: { "application/json": { schema: Velocity } }, required: true } },
  responses: {
    200: json(VelocityResponse, "The robot took the speeds"),
    ...controlErrors,
    ...errors({ 422: "Not a velocity, or the robot takes motor commands" }),
  },
});

const frame = createRoute({
  method: "get",
  path: "/camera/frame",
  summary: "The latest camera frame of the caller's robot",
  responses: {
    200: {
      content: { "image/jpeg": { schema: z.string().meta({ format: "binary" }) } },
      description: "A JPEG",
    },
    ...controlErrors,
  },
});

const BOUNDARY = "robo402-frame";
// Each frame's multipart part, built once for all its viewers (one write each, not three).
const parts = new WeakMap<Frame, Uint8Array>();
function multipartPart(frame: Frame): Uint8Array {
  let part = parts.get(frame);
  if (!part) {
    const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.jpeg.length}\r\n\r\n`;
    part = Buffer.concat([Buffer.from(head, "latin1"), frame.jpeg, Buffer.from("\r\n", "latin1")]);
    parts.set(frame, part);
  }
  return part;
}
// How often an open stream asks whether its session still runs (it may end on another instance).
const STREAM_RECHECK_MS = 5000;
const cameraStream = createRoute({
  method: "get",
  path: "/camera/stream",
  summary: "Live camera as multipart MJPEG (use as an <img> source)",
  description:
    "An <img> cannot send headers: the stream also takes the session token as `?token=` (free mode: `?wallet=`).",
  request: {
    query: z.object({
      token: z.string().optional().meta({ description: "The session token, for an <img> source" }),
      wallet: z.string().optional().meta({ description: "Free mode: the wallet, for an <img> source" }),
    }),
  },
  responses: {
    200: {
      content: { [`multipart/x-mixed-replace; boundary=${BOUNDARY}`]: { schema: z.string() } },
      description: "A JPEG per part until the session ends or the client leaves",
    },
    ...controlErrors,
  },
});

const status = createRoute({
  method: "get",
  path: "/status",
  summary: "Whether a robot is online and free",
  request: { query: z.object({ robot_host: RobotHost }) },
  responses: {
    200: json(RobotStatusResponse, "Online state of motor and camera, and availability"),
    ...errors({ 404: "No robot of that name is registered", 422: "robot_host missing" }),
  },
});

/** `/api/v1/robot/*` of the first plan: control of the robot bound to the caller's session. */
export function robotRoutes(robots: RobotGateway, access: AccessService, auth: ControlAuth) {
  return new OpenAPIHono({ defaultHook: validationHook })
    .openapi(
      motor,
      async (c) => {
        const { command } = c.req.valid("param");
        const { robot, session } = await auth.heldRobot(c);
        await robots.command(robot, command, session.id);
        return c.json({ status: "ok" as const, command }, 200);
      },
      (result, c): undefined => {
        if (result.success) return undefined;
        throw new Refusal(
          "not_found",
          `Unknown motor command '${c.req.param("command")}'. Use one of: ${MOTOR_COMMANDS.join(", ")}.`,
        );
      },
    )
    .openapi(velocity, async (c) => {
      const speeds = c.req.valid("json");
      const { robot, session } = await auth.heldRobot(c);
      await robots.velocity(robot, speeds, session.id);
      return c.json({ status: "ok" as const, velocity: speeds }, 200);
    })
    .openapi(frame, async (c) => {
      const { robot } = await auth.heldRobot(c);
      const { jpeg } = await robots.frame(robot);
      return c.body(jpeg as Uint8Array<ArrayBuffer>, 200, {
        "content-type": "image/jpeg",
        "cache-control": "no-store",
      });
    })
    .openapi(cameraStream, async (c) => {
      const { robot, session } = await auth.streamHeldRobot(c);
      const feed = robots.camera(robot);
      c.header("content-type", `multipart/x-mixed-replace; boundary=${BOUNDARY}`);
      c.header("cache-control", "no-store");
      return stream(c, async (out) => {
        let writing: Promise<unknown> | undefined;
        const send = (frame: Frame) => {
          // A viewer that cannot keep up skips frames instead of queueing them in memory.
          if (writing) return;
          writing = out
            .write(multipartPart(frame))
            .catch(() => {})
            .finally(() => {
              writing = undefined;
            });
        };
        await new Promise<void>((done) => {
          const unsubscribe = feed.subscribe(send);
          let check: NodeJS.Timeout | undefined;
          const finish = () => {
            unsubscribe();
            clearTimeout(check);
            access.off("ended", onEnded);
            done();
          };
          // Ended here: at once. Ended on another instance, or moved by an outage's credit: seen by
          // looking again, at the expiry or every few seconds, whichever comes first.
          const onEnded = (ended: { id: string }) => ended.id === session.id && finish();
          const lookAgain = (expiresAt: Date) => {
            const due = Math.min(STREAM_RECHECK_MS, Math.max(0, expiresAt.getTime() - Date.now()));
            check = setTimeout(async () => {
              const current = await access.session(session.id).catch(() => session);
              if (!current || current.endedAt || current.expiresAt.getTime() <= Date.now()) finish();
              else lookAgain(current.expiresAt);
            }, due);
          };
          lookAgain(session.expiresAt);
          access.on("ended", onEnded);
          out.onAbort(finish);
        });
      });
    })
    .openapi(status, async (c) => {
      const robot = robots.find(c.req.valid("query").robot_host);
      // The first plan's fields name the operator's own robots on its network. An owner's robot sits on
      // the owner's network: its public address or DNS name would tell anyone where to reach (or attack)
      // the owner's home, so anyone asking sees null.
      const shown = robot.ownerId === undefined;
      const [info, cameraOnline, camera, holder] = await Promise.all([
        robots.info(robot),
        robots.cameraOnline(robot),
        shown ? robots.cameraAddress(robot) : { name: null, ip: null },
        access.seenHolder(robot),
      ]);
      return c.json(
        {
          robot_host: robot.id,
          motor_online: info !== null,
          motor_ip: shown ? (info?.ip ?? null) : null,
          motor_mdns: shown ? (info?.name ?? null) : null,
          camera_online: cameraOnline,
          camera_ip: camera.ip,
          camera_mdns: camera.name,
          available: holder === undefined,
          locked_by: holder ? maskWallet(holder.wallet) : null,
        },
        200,
      );
    });
}

const list = createRoute({
  method: "get",
  path: "/",
  summary: "The registered robots and whether each is free (asks no robot anything)",
  responses: { 200: json(RobotListResponse, "Every registered robot") },
});

/** `/api/v1/robots`: what there is to buy. */
export function robotListRoutes(robots: RobotGateway, access: AccessService) {
  return new OpenAPIHono({ defaultHook: validationHook }).openapi(list, async (c) => {
    const listed = await Promise.all(
      robots.list().map(async (robot) => {
        const holder = await access.seenHolder(robot);
        return {
          robot_host: robot.id,
          available: !holder,
          locked_by: holder ? maskWallet(holder.wallet) : null,
          free_at: holder ? holder.expiresAt.toISOString() : null,
        };
      }),
    );
    return c.json(listed, 200);
  });
}
