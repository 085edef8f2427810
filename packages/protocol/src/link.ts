import { z } from "zod";
import { MotorCommand, Velocity } from "./robot.ts";

/**
 * The robot link: one WebSocket that a robot (or the `robo402-link` bridge beside it) opens to the platform
 * at `/api/v1/link`, authenticated by `Authorization: Bearer <device token>`. Robots sit behind NAT, so
 * they dial out and the platform drives them over this connection.
 *
 * Text frames are JSON, one message each, in the shapes below. A camera frame travels as a binary
 * frame: the 4-byte big-endian id of the `frame` request it answers, then the JPEG.
 *
 * Every request the platform sends carries an `id`; the robot answers each with one `ack` of that id
 * (or, for `frame`, a binary frame). Heartbeats go both ways: either side that hears nothing for
 * `LINK_SILENCE_MS` treats the link as down, and the bridge then stops its robot on its own.
 */
export const LINK_PATH = "/api/v1/link";

/** How often each side pings when it has nothing else to say. */
export const LINK_HEARTBEAT_MS = 1000;
/** Silence after which a side calls the link down. */
export const LINK_SILENCE_MS = 3000;

/** WebSocket close codes the platform uses, so a bridge knows whether to dial again. */
export const LinkClose = {
  /** The platform is going away (restart, upgrade): dial again, another instance takes the link. */
  restart: 1012,
  /** The device token is wrong or was rotated: dialing again with it will not help. */
  unauthorized: 4401,
  /** A newer link with the same token replaced this one. */
  replaced: 4409,
  /** Too many link attempts: dial again after a pause. */
  rateLimited: 4429,
  /**
   * The robot's listing changed under its link (deleted, renamed or suspended): dial again to hear what
   * the platform says now (a deleted robot's token is refused, a suspended one's until it is lifted).
   */
  listingChanged: 4410,
} as const;

const Id = z.number().int().nonnegative();

/** What the platform asks of a robot. */
export const PlatformMessage = z.discriminatedUnion("type", [
  /** Sent once the token is accepted: which robot this link is, and how soon the robot must stop itself. */
  z.object({ type: z.literal("hello"), robot: z.string(), deadmanMs: z.number().int().positive() }),
  z.object({ type: z.literal("command"), id: Id, command: MotorCommand }),
  z.object({ type: z.literal("velocity"), id: Id, velocity: Velocity }),
  z.object({ type: z.literal("info"), id: Id }),
  z.object({ type: z.literal("frame"), id: Id }),
  z.object({ type: z.literal("ping"), at: z.number() }),
  z.object({ type: z.literal("pong"), at: z.number() }),
]);
export type PlatformMessage = z.infer<typeof PlatformMessage>;

export const LinkInfo = z.object({ name: z.string().nullable(), ip: z.string().nullable() });
export type LinkInfo = z.infer<typeof LinkInfo>;

/** What a robot tells the platform. */
export const RobotMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ack"),
    id: Id,
    ok: z.boolean(),
    /** Why a request failed (`ok: false`), in words a robot owner can act on. */
    error: z.string().max(500).optional(),
    /** The answer to `info`. */
    info: LinkInfo.optional(),
    /** The camera refused for now (asked too soon, or busy): not an outage. */
    busy: z.boolean().optional(),
  }),
  /** Sent on connect and whenever it changes: whether the robot's boards answer on its LAN. */
  z.object({ type: z.literal("health"), motor: z.boolean(), camera: z.boolean() }),
  z.object({ type: z.literal("ping"), at: z.number() }),
  z.object({ type: z.literal("pong"), at: z.number() }),
]);
export type RobotMessage = z.infer<typeof RobotMessage>;

/** A binary camera frame: the request's id, then the JPEG. */
export function encodeFrame(id: number, jpeg: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + jpeg.length);
  new DataView(out.buffer).setUint32(0, id);
  out.set(jpeg, 4);
  return out;
}

export function decodeFrame(data: Uint8Array): { id: number; jpeg: Uint8Array } | null {
  if (data.length < 4) return null;
  const id = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  return { id, jpeg: data.subarray(4) };
}
