import { describe, expect, it } from "vitest";
import { normalizeHeading } from "../src/physics.ts";
import { FIRMWARE_DURATIONS_MS, Robot } from "../src/robot.ts";

/** A robot on a hand-wound clock, so every pose below is exact. */
function robotAt(start = 1_000_000) {
  const clock = { now: start };
  const robot = new Robot(FIRMWARE_DURATIONS_MS, () => clock.now);
  const advance = (ms: number) => {
    clock.now += ms;
  };
  return { robot, advance, clock };
}

describe("Robot", () => {
  it("starts in the middle of the 4 m room facing +x, standing still", () => {
    const { robot } = robotAt();
    expect(robot.pose()).toEqual({ x: 2, y: 2, heading: 0 });
    expect(robot.moving()).toBeNull();
  });

  it("drives forward at 0.25 m/s and reads in-between poses", () => {
    const { robot, advance } = robotAt();
    robot.command("forward");
    advance(1000);
    expect(robot.pose().x).toBeCloseTo(2.25, 9);
    expect(robot.moving()).toBe("forward");
  });

  it("stops by itself after 2 s of driving and 1 s of turning", () => {
    const { robot, advance } = robotAt();
    robot.command("back");
    advance(5000);
    expect(robot.pose()).toEqual({ x: 1.5, y: 2, heading: 0 });
    expect(robot.moving()).toBeNull();
    robot.command("left");
    advance(3000);
    expect(robot.pose().heading).toBeCloseTo(90, 9);
    expect(robot.moving()).toBeNull();
  });

  it("lets a new command replace the motion and restart its timer", () => {
    const { robot, advance } = robotAt();
    robot.command("forward");
    advance(1500);
    robot.command("forward");
    advance(1500);
    // 3 s of driving: the second command's 2 s had not run out.
    expect(robot.pose().x).toBeCloseTo(2.75, 9);
    robot.command("right");
    advance(500);
    robot.command("stop");
    advance(1000);
    expect(robot.pose()).toEqual({ x: 2.75, y: 2, heading: 315 });
    expect(robot.moving()).toBeNull();
  });

  it("drives along its heading and stays 0.15 m inside the walls", () => {
    const { robot, advance } = robotAt();
    robot.command("left");
    advance(500);
    for (let i = 0; i < 10; i++) {
      robot.command("forward");
      advance(2000);
    }
    // 45° for 5 m: x and y both hit the north-east clearance.
    expect(robot.pose()).toEqual({ x: 3.85, y: 3.85, heading: 45 });
  });

  it("logs every command with its time and the pose it started from", () => {
    const { robot, advance, clock } = robotAt();
    robot.command("forward");
    advance(1000);
    robot.command("stop");
    const log = robot.commands();
    expect(log.map((entry) => entry.command)).toEqual(["forward", "stop"]);
    expect(log[1]?.at).toBe(clock.now);
    expect(log[1]?.pose.x).toBeCloseTo(2.25, 9);
    robot.reset();
    expect(robot.commands()).toEqual([]);
    expect(robot.pose()).toEqual({ x: 2, y: 2, heading: 0 });
  });

  it("keeps headings in [0, 360)", () => {
    expect(normalizeHeading(-90)).toBe(270);
    expect(normalizeHeading(720)).toBe(0);
    expect(normalizeHeading(-1e-14)).toBe(0);
  });
});
