import { afterEach, describe, expect, it, vi } from "vitest";
import {
  startVelocityRobot,
  type VelocityPose,
  type VelocityRobot,
  type VelocityRobotOptions,
} from "../src/index.ts";
import { travel } from "../src/unicycle.ts";
import { sleep } from "./helpers.ts";

const started: VelocityRobot[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((rover) => rover.close()));
});
async function rover(options: Partial<VelocityRobotOptions> = {}) {
  const robot = await startVelocityRobot({ name: "test-rover-01", ...options });
  started.push(robot);
  return robot;
}
const post = (robot: VelocityRobot, body: unknown) =>
  fetch(`${robot.url}/velocity`, { method: "POST", body: JSON.stringify(body) });
const pose = async (robot: VelocityRobot) =>
  (await (await fetch(`${robot.url}/pose`)).json()) as VelocityPose;

describe("unicycle kinematics", () => {
  it("a constant turn while driving traces an arc", () => {
    // 1 m/s at π/2 rad/s for 1 s: a quarter circle of radius 2/π, ending a radius ahead and a radius left.
    const end = travel({ x: 1, y: 1, heading: 0 }, { linear: 1, angular: Math.PI / 2 }, 1);
    expect(end.x).toBeCloseTo(1 + 2 / Math.PI, 9);
    expect(end.y).toBeCloseTo(1 + 2 / Math.PI, 9);
    expect(end.heading).toBeCloseTo(90, 9);
  });

  it("no turn is a straight line along the heading", () => {
    const end = travel({ x: 1, y: 1, heading: 90 }, { linear: 0.5, angular: 0 }, 2);
    expect(end.x).toBeCloseTo(1, 9);
    expect(end.y).toBeCloseTo(2, 9);
  });
});

describe("velocity robot over HTTP", () => {
  it("drives at the speeds it is given, shown on its pose", async () => {
    const robot = await rover();
    const start = await pose(robot);
    const answer = await post(robot, { linear: 0.5, angular: 0 });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ applied: { linear: 0.5, angular: 0 } });
    await vi.waitFor(async () => expect((await pose(robot)).x).toBeGreaterThan(start.x + 0.02));
    expect(await pose(robot)).toMatchObject({ linear: 0.5, angular: 0, stoppedBy: null, y: start.y });
  });

  it("clamps a command to its own limits", async () => {
    const robot = await rover({ limits: { maxLinear: 0.3, maxAngular: 1 } });
    const answer = await post(robot, { linear: 5, angular: -9 });
    expect(await answer.json()).toEqual({ applied: { linear: 0.3, angular: -1 } });
    expect(await pose(robot)).toMatchObject({ linear: 0.3, angular: -1 });
  });

  it("its watchdog zeroes the speeds when commands stop, and the robot stays where it stopped", async () => {
    const robot = await rover({ limits: { watchdogMs: 150 } });
    await post(robot, { linear: 0.5, angular: 0.5 });
    await vi.waitFor(async () => expect((await pose(robot)).stoppedBy).toBe("watchdog"));
    const stopped = await pose(robot);
    expect(stopped).toMatchObject({ linear: 0, angular: 0 });
    await sleep(100);
    expect(await pose(robot)).toEqual(stopped);
  });

  it("a zero command stops it, and the pose says so", async () => {
    const robot = await rover();
    await post(robot, { linear: 0.2, angular: 0 });
    await post(robot, { linear: 0, angular: 0 });
    expect(await pose(robot)).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command" });
  });

  it("refuses a body that is not its command with a 400 that shows the shape", async () => {
    const robot = await rover();
    for (const body of [{ linear: "fast" }, { linear: 1 }, "nope"]) {
      const answer = await post(robot, body);
      expect(answer.status).toBe(400);
      expect((await answer.json()).error).toMatch(/linear.*angular/);
    }
    expect((await pose(robot)).linear).toBe(0);
  });

  it("serves /info with its name and limits, and a camera that draws its pose", async () => {
    const robot = await rover({ limits: { maxLinear: 0.4 } });
    const info = await (await fetch(`${robot.url}/info`)).json();
    expect(info).toMatchObject({ hostname: "test-rover-01", limits: { maxLinear: 0.4, watchdogMs: 1000 } });
    const frame = await fetch(`${robot.cameraUrl}/getImage`);
    expect(frame.headers.get("content-type")).toBe("image/jpeg");
  });
});
