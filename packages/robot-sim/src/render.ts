import { encode } from "jpeg-js";
import { type Pose, ROOM_SIZE_M } from "./physics.ts";

export interface Resolution {
  width: number;
  height: number;
}

export type Rotation = 0 | 90 | 180 | 270;

type Rgb = readonly [number, number, number];

// Each wall its own colour, so a turn shows which way the robot faces.
const EAST_WALL: Rgb = [200, 60, 50];
const NORTH_WALL: Rgb = [60, 170, 80];
const WEST_WALL: Rgb = [50, 90, 200];
const SOUTH_WALL: Rgb = [220, 190, 60];
const CEILING: Rgb = [225, 225, 215];
const FLOOR: Rgb = [95, 80, 65];

// The ESP-EYE's OV2640 sees roughly this wide.
const FIELD_OF_VIEW_DEG = 60;
// Projected wall height, in image heights, of a wall 1 m away.
const WALL_HEIGHT_AT_1M = 0.9;
// Stripes make moving forward visible too: they spread apart as the wall comes closer.
const STRIPE_WIDTH_M = 0.5;
const STRIPE_SHADE = 0.7;
const JPEG_QUALITY = 70;

/** What the camera sees from `pose`, as a JPEG turned clockwise by `rotation`. */
export function renderJpeg(pose: Pose, size: Resolution, rotation: Rotation): Buffer {
  const view = drawView(pose, size);
  const turned = rotate(view, size, rotation);
  return encode({ ...turned, data: turned.data }, JPEG_QUALITY).data;
}

/** One ray per column (a raycaster), in RGBA as jpeg-js expects. */
function drawView(pose: Pose, { width, height }: Resolution): Uint8Array {
  const pixels = new Uint8Array(width * height * 4);
  const heading = (pose.heading * Math.PI) / 180;
  const halfView = Math.tan((FIELD_OF_VIEW_DEG * Math.PI) / 360);
  for (let column = 0; column < width; column++) {
    // Spaced on a flat image plane, not by equal angles, so walls come out straight.
    const offset = Math.atan((1 - (2 * (column + 0.5)) / width) * halfView);
    const dx = Math.cos(heading + offset);
    const dy = Math.sin(heading + offset);
    const toEastOrWest = dx > 0 ? (ROOM_SIZE_M - pose.x) / dx : dx < 0 ? -pose.x / dx : Infinity;
    const toNorthOrSouth = dy > 0 ? (ROOM_SIZE_M - pose.y) / dy : dy < 0 ? -pose.y / dy : Infinity;
    const hitsEastOrWest = toEastOrWest < toNorthOrSouth;
    const distance = Math.min(toEastOrWest, toNorthOrSouth);
    const along = hitsEastOrWest ? pose.y + distance * dy : pose.x + distance * dx;
    const wall = hitsEastOrWest ? (dx > 0 ? EAST_WALL : WEST_WALL) : dy > 0 ? NORTH_WALL : SOUTH_WALL;
    // Distance to the image plane rather than along the ray, so walls do not bulge (fisheye).
    const depth = distance * Math.cos(offset);
    const stripe = Math.floor(along / STRIPE_WIDTH_M) % 2 === 1 ? STRIPE_SHADE : 1;
    const shade = stripe / (1 + 0.15 * depth);
    const wallHeight = (height * WALL_HEIGHT_AT_1M) / depth;
    const top = Math.max(0, Math.round((height - wallHeight) / 2));
    const bottom = Math.min(height, Math.round((height + wallHeight) / 2));
    for (let row = 0; row < height; row++) {
      const i = (row * width + column) * 4;
      if (row < top) paint(pixels, i, CEILING, 1);
      else if (row < bottom) paint(pixels, i, wall, shade);
      else paint(pixels, i, FLOOR, 1);
    }
  }
  return pixels;
}

function paint(pixels: Uint8Array, i: number, [r, g, b]: Rgb, shade: number): void {
  pixels[i] = r * shade;
  pixels[i + 1] = g * shade;
  pixels[i + 2] = b * shade;
  pixels[i + 3] = 255;
}

function rotate(
  pixels: Uint8Array,
  { width, height }: Resolution,
  rotation: Rotation,
): Resolution & { data: Uint8Array } {
  if (rotation === 0) return { width, height, data: pixels };
  const turned = new Uint8Array(pixels.length);
  const sideways = rotation !== 180;
  const outWidth = sideways ? height : width;
  const outHeight = sideways ? width : height;
  const view = new Uint32Array(pixels.buffer);
  const out = new Uint32Array(turned.buffer);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [tx, ty] =
        rotation === 90
          ? [height - 1 - y, x]
          : rotation === 180
            ? [width - 1 - x, height - 1 - y]
            : [y, width - 1 - x];
      out[ty * outWidth + tx] = view[y * width + x] ?? 0;
    }
  }
  return { width: outWidth, height: outHeight, data: turned };
}
