import { decode } from "jpeg-js";
import { describe, expect, it } from "vitest";
import type { Pose } from "../src/physics.ts";
import { renderJpeg } from "../src/render.ts";

const QVGA = { width: 320, height: 240 };

/** The decoded image's RGB at (x, y). */
function pixelsOf(jpeg: Buffer) {
  const image = decode(jpeg);
  return (x: number, y: number): [number, number, number] => {
    const i = (y * image.width + x) * 4;
    return [image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0];
  };
}

const centre = (pose: Pose) => pixelsOf(renderJpeg(pose, QVGA, 0))(160, 120);

describe("renderJpeg", () => {
  it("shows the wall the robot faces, each in its own colour", () => {
    const [eastR, eastG, eastB] = centre({ x: 2, y: 2, heading: 0 });
    const [northR, northG, northB] = centre({ x: 2, y: 2, heading: 90 });
    const [westR, westG, westB] = centre({ x: 2, y: 2, heading: 180 });
    expect(eastR).toBeGreaterThan(eastG + 60);
    expect(northG).toBeGreaterThan(northR + 60);
    expect(westB).toBeGreaterThan(westR + 60);
    expect(Math.max(eastB, northB, westG)).toBeLessThan(120);
  });

  it("draws a nearer wall taller, and a wall faced squarely equally tall across the image", () => {
    const wallRows = (x: number, column = 160) => {
      const pixel = pixelsOf(renderJpeg({ x, y: 2, heading: 0 }, QVGA, 0));
      let rows = 0;
      for (let y = 0; y < 240; y++) {
        const [r, g] = pixel(column, y);
        if (r > g + 40) rows++;
      }
      return rows;
    };
    expect(wallRows(3.5)).toBeGreaterThan(wallRows(1) * 2);
    expect(Math.abs(wallRows(2, 3) - wallRows(2, 160))).toBeLessThanOrEqual(2);
  });

  it("stripes the walls every 0.5 m, fewer in view as the robot comes closer", () => {
    const stripeEdges = (x: number) => {
      const pixel = pixelsOf(renderJpeg({ x, y: 2, heading: 0 }, QVGA, 0));
      // Light stripes are about 150 red, dark ones about 105.
      const light = (column: number) => pixel(column, 120)[0] > 128;
      let edges = 0;
      for (let column = 1; column < 320; column++) if (light(column) !== light(column - 1)) edges++;
      return edges;
    };
    // 2 m from the east wall the view spans y 0.85..3.15 m: edges at 1, 1.5, 2, 2.5 and 3 m.
    expect(stripeEdges(2)).toBe(5);
    // 1 m away it spans 1.42..2.58 m: edges at 1.5, 2 and 2.5 m.
    expect(stripeEdges(3)).toBe(3);
  });

  it("turns the image clockwise", () => {
    const turned = renderJpeg({ x: 2, y: 2, heading: 0 }, QVGA, 90);
    expect(decode(turned)).toMatchObject({ width: 240, height: 320 });
    const pixel = pixelsOf(turned);
    // The pale ceiling, on top before turning, is now on the right; the dark floor on the left.
    expect(Math.min(...pixel(235, 160))).toBeGreaterThan(190);
    expect(Math.max(...pixel(4, 160))).toBeLessThan(130);
  });
});
