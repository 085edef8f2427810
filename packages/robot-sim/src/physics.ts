/** Where the robot is: metres from the room's south-west corner, heading in degrees (0 = +x, CCW). */
export interface Pose {
  x: number;
  y: number;
  heading: number;
}

export type Motion = "forward" | "back" | "left" | "right";

export const ROOM_SIZE_M = 4;
// The chassis is about 0.3 m across, so its centre never gets closer than this to a wall.
const WALL_CLEARANCE_M = 0.15;
const DRIVE_SPEED_M_PER_S = 0.25;
const TURN_SPEED_DEG_PER_S = 90;

export const startPose = (): Pose => ({ x: ROOM_SIZE_M / 2, y: ROOM_SIZE_M / 2, heading: 0 });

export function normalizeHeading(degrees: number): number {
  // A tiny negative plus 360 rounds to exactly 360, which the outer modulo folds back to 0.
  return ((degrees % 360) + 360) % 360;
}

const clampToRoom = (metres: number) =>
  Math.min(ROOM_SIZE_M - WALL_CLEARANCE_M, Math.max(WALL_CLEARANCE_M, metres));

/**
 * The pose after `seconds` of one motion. Clamping the end point per axis equals sliding along the
 * wall step by step, because each coordinate moves monotonically during a straight drive.
 */
export function integrate(from: Pose, motion: Motion, seconds: number): Pose {
  if (motion === "left" || motion === "right") {
    const sign = motion === "left" ? 1 : -1;
    return { ...from, heading: normalizeHeading(from.heading + sign * TURN_SPEED_DEG_PER_S * seconds) };
  }
  const distance = (motion === "forward" ? 1 : -1) * DRIVE_SPEED_M_PER_S * seconds;
  const radians = (from.heading * Math.PI) / 180;
  return {
    x: clampToRoom(from.x + distance * Math.cos(radians)),
    y: clampToRoom(from.y + distance * Math.sin(radians)),
    heading: from.heading,
  };
}
