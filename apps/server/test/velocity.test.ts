import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RobotCatalogResponse } from "@robo402/protocol";
import { type RobotSim, startRobotSim, startVelocityRobot, type VelocityRobot } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseRobots } from "../src/robots/controlled.ts";
import { startTestPlatform, type TestPlatform } from "./helpers.ts";
import { listen } from "./listen.ts";

// Three rovers: one whose owner allows far less than it can do, one whose platform dead-man (200 ms) is
// far shorter than its own watchdog (a minute, so only the platform can have stopped it), and a Tumbller.
let clamped: VelocityRobot;
let silent: VelocityRobot;
let tumbller: RobotSim;
let test: TestPlatform;

beforeAll(async () => {
  [clamped, silent, tumbller] = await Promise.all([
    startVelocityRobot({
      name: "rover-clamped",
      limits: { maxLinear: 2, maxAngular: 4, watchdogMs: 60_000 },
    }),
    startVelocityRobot({ name: "rover-silent", limits: { watchdogMs: 60_000 } }),
    startRobotSim({ name: "finland-tumbller-01" }),
  ]);
  const rover = (robot: VelocityRobot, settings: object) => ({
    host: robot.name,
    driver: "velocity",
    motor_url: robot.url,
    camera_url: robot.cameraUrl,
    settings,
  });
  test = await startTestPlatform({
    robots: [],
    env: {
      ROBOTS: JSON.stringify([
        rover(clamped, { max_linear: 0.2, max_angular: 0.5, watchdog_ms: 1000 }),
        rover(silent, { max_linear: 0.5, max_angular: 1, watchdog_ms: 200 }),
        { host: tumbller.name, motor_url: tumbller.motorUrl, camera_url: tumbller.cameraUrl },
      ]),
    },
  });
  for (const host of [clamped.name, silent.name, tumbller.name]) {
    // One wallet holds one robot at a time: a wallet per robot.
    expect((await test.purchase(walletFor(host), host)).status).toBe(200);
  }
});
afterAll(async () => {
  await test?.close();
  await Promise.all([clamped?.close(), silent?.close(), tumbller?.close()]);
});

const walletFor = (host: string) =>
  `0x${[clamped.name, silent.name, tumbller.name].indexOf(host).toString().padStart(40, "a")}`;
const drive = (host: string, velocity: unknown) =>
  test.request("/api/v1/robot/velocity", {
    method: "POST",
    wallet: walletFor(host),
    headers: { "content-type": "application/json" },
    body: JSON.stringify(velocity),
  });

describe("a velocity robot", () => {
  it("is driven at its owner's limits: full speed is max_linear and max_angular, shown on its pose", async () => {
    clamped.reset();
    const start = clamped.pose();
    const answer = await drive(clamped.name, { linear: 1, angular: -1 });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: "ok", velocity: { linear: 1, angular: -1 } });
    const pose = clamped.pose();
    // The rover could do 2 m/s and 4 rad/s; the platform asked for its owner's 0.2 and 0.5.
    expect(pose.linear).toBeCloseTo(0.2, 9);
    expect(pose.angular).toBeCloseTo(-0.5, 9);
    await vi.waitFor(() => expect(clamped.pose().x).toBeGreaterThan(start.x));
    expect(clamped.pose().heading).not.toBe(start.heading);
  });

  it("refuses speeds beyond [-1, 1] with a 422 that names the field, and the rover is not moved", async () => {
    clamped.reset();
    const answer = await drive(clamped.name, { linear: 1.5, angular: 0 });
    expect(answer.status).toBe(422);
    expect(JSON.stringify(await answer.json())).toMatch(/linear/);
    expect(clamped.pose().linear).toBe(0);
  });

  it("is stopped by the platform's dead-man at its own watchdog_ms when the driver goes silent", async () => {
    silent.reset();
    expect((await drive(silent.name, { linear: 1, angular: 0 })).status).toBe(200);
    expect(silent.pose().linear).toBeCloseTo(0.5, 9);
    // Its own watchdog is a minute away: a zero-speed command, from the platform, stopped it.
    await vi.waitFor(() =>
      expect(silent.pose()).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command" }),
    );
  });

  it("takes stop as zero speeds, and refuses a Tumbller's motion with a 422 naming its own command", async () => {
    clamped.reset();
    await drive(clamped.name, { linear: 0.5, angular: 0 });
    const forward = await test.request("/api/v1/robot/motor/forward", { wallet: walletFor(clamped.name) });
    expect(forward.status).toBe(422);
    expect((await forward.json()).detail ?? "").toMatch(/velocity.*\/api\/v1\/robot\/velocity/);
    const stop = await test.request("/api/v1/robot/motor/stop", { wallet: walletFor(clamped.name) });
    expect(stop.status).toBe(200);
    expect(clamped.pose()).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command" });
  });

  it("is a kind a Tumbller is not: a velocity to a Tumbller is a 422 naming its motor commands", async () => {
    const answer = await drive(tumbller.name, { linear: 0.5, angular: 0 });
    expect(answer.status).toBe(422);
    expect((await answer.json()).detail ?? "").toMatch(/motor commands.*\/api\/v1\/robot\/motor\//);
    expect(tumbller.moving()).toBeNull();
  });
});

describe("the CLI", () => {
  it("drives a velocity robot for the time asked, then stops it", async () => {
    silent.reset();
    const start = silent.pose();
    const server = await listen((request, env) => test.platform.app.fetch(request, env as object));
    const home = mkdtempSync(join(tmpdir(), "robo402-cli-"));
    try {
      const cli = fileURLToPath(new URL("../../../packages/client/bin/robo402.js", import.meta.url));
      const args = ["--server", server.url, "--wallet", walletFor(silent.name), "velocity", "--linear", "1"];
      const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args, "--seconds", "0.6"], {
        env: { ...process.env, ROBO402_HOME: home },
      });
      expect(stdout).toMatch(/then stop: ok/);
    } finally {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
    const end = silent.pose();
    expect(end).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command", y: start.y });
    expect(end.x).toBeGreaterThan(start.x);
  });
});

describe("configured velocity robots", () => {
  it("refuse settings beyond the kind's rules, naming the field", () => {
    const spec = (settings: unknown) =>
      JSON.stringify([{ host: "rover-01", driver: "velocity", motor_url: "http://10.0.0.5", settings }]);
    expect(() => parseRobots(spec({ max_linear: 1, max_angular: 1, watchdog_ms: 5000 }), "ROBOTS")).toThrow(
      /settings\.watchdog_ms/,
    );
    expect(() => parseRobots(spec(undefined), "ROBOTS")).toThrow(/settings/);
    expect(parseRobots(spec({ max_linear: 1, max_angular: 1, watchdog_ms: 500 }), "ROBOTS")[0]).toMatchObject(
      {
        driver: "velocity",
        settings: { watchdog_ms: 500 },
      },
    );
  });
});

describe("a simulated velocity robot", () => {
  it("is listed with what it takes, beside the Tumbllers, and driven like any", async () => {
    const platform = await startTestPlatform({ env: { SIMULATED_VELOCITY_ROBOTS: "finland-rover-01" } });
    try {
      const { robots } = RobotCatalogResponse.parse(await (await platform.request("/api/robots")).json());
      expect(robots.find((robot) => robot.host === "finland-rover-01")?.control).toBe("velocity");
      expect(robots.find((robot) => robot.host === "finland-tumbller-01")?.control).toBe("motor");
      const wallet = "0x00000000000000000000000000000000000000a1";
      expect((await platform.purchase(wallet, "finland-rover-01")).status).toBe(200);
      const driven = await platform.request("/api/v1/robot/velocity", {
        method: "POST",
        wallet,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ linear: 0.5, angular: 0 }),
      });
      expect(driven.status).toBe(200);
    } finally {
      await platform.close();
    }
  });
});
