import { z } from "zod";

export const MOTOR_COMMANDS = ["forward", "back", "left", "right", "stop"] as const;
export const MotorCommand = z.enum(MOTOR_COMMANDS);
export type MotorCommand = z.infer<typeof MotorCommand>;

/**
 * A velocity robot's command (FrodoBots' rovers take the same): linear and angular speed as fractions of the
 * robot's own limits, sent about ten times a second while the driver holds a direction.
 */
export const Velocity = z.object({
  linear: z.number().min(-1).max(1),
  angular: z.number().min(-1).max(1),
});
export type Velocity = z.infer<typeof Velocity>;

export const VelocityResponse = z.object({
  status: z.literal("ok"),
  velocity: Velocity,
});
export type VelocityResponse = z.infer<typeof VelocityResponse>;

export const CommandResponse = z.object({
  status: z.literal("ok"),
  command: MotorCommand,
});
export type CommandResponse = z.infer<typeof CommandResponse>;

export const RobotStatusResponse = z.object({
  robot_host: z.string(),
  motor_online: z.boolean(),
  motor_ip: z.string().nullable(),
  motor_mdns: z.string().nullable(),
  camera_online: z.boolean(),
  camera_ip: z.string().nullable(),
  camera_mdns: z.string().nullable(),
  /** Whether the robot can be bought now. */
  available: z.boolean(),
  /** The holder's wallet, masked as `0x1234...abcd`. */
  locked_by: z.string().nullable(),
});
export type RobotStatusResponse = z.infer<typeof RobotStatusResponse>;

export const RobotListResponse = z.array(
  z.object({
    robot_host: z.string(),
    available: z.boolean(),
    locked_by: z.string().nullable(),
    /** When the holder's session ends and the robot frees up; null when it is free. */
    free_at: z.iso.datetime().nullable(),
  }),
);
export type RobotListResponse = z.infer<typeof RobotListResponse>;
