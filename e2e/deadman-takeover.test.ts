import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { robotsEnv, type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// One robot driven through two server processes on one PostgreSQL and Redis: a release answered by
// one instance has stopped the robot and fences the session on the other; a process killed (SIGKILL: no
// shutdown, no stop) while its robot moves has its dead-man taken over by the other, which stops it.
// The robot is a robot-sim whose motions outlast the test, so the stop seen is the platform's, not the
// firmware's own. Needs DATABASE_URL and REDIS_URL.
const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const DRIVER = "0x00000000000000000000000000000000000000d1";

describe.runIf(shared)("two instances stopping one robot", () => {
  let sim: RobotSim;
  let storage: TestStorage;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    sim = await startRobotSim({ name: "finland-tumbller-01", motionDurationsMs: { forward: 120_000 } });
    storage = await testStorage();
    const env = {
      ...storage.env,
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      PAYMENT_ENABLED: "false",
      ROBOTS: robotsEnv([sim]),
      DEADMAN_MS: "1000",
    };
    a = await startServer(env);
    b = await startServer(env);
  });
  afterAll(async () => {
    await a?.stop("SIGKILL");
    await b?.stop();
    await sim?.close();
    await storage?.drop();
  });

  const headers = (wallet: string) => ({ "x-wallet-address": wallet, "content-type": "application/json" });
  async function drive(server: ServerProcess, wallet: string) {
    const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
      method: "POST",
      headers: headers(wallet),
      body: JSON.stringify({ robot_host: sim.name }),
    });
    expect(bought.status).toBe(200);
    expect((await forward(server, wallet)).status).toBe(200);
    expect(sim.moving()).toBe("forward");
  }
  const forward = (server: ServerProcess, wallet: string) =>
    fetch(`${server.url}/api/v1/robot/motor/forward`, { headers: headers(wallet) });

  it("a release answered by one instance has stopped the robot, and the other refuses the session", async () => {
    const wallet = "0x00000000000000000000000000000000000000d2";
    await drive(a, wallet);
    const released = await fetch(`${b.url}/api/v1/access/release`, {
      method: "POST",
      headers: headers(wallet),
    });
    expect(released.status).toBe(200);
    expect(sim.moving()).toBeNull();
    expect((await forward(a, wallet)).status).toBe(403);
    expect(sim.moving()).toBeNull();
  });

  it("an instance killed while its robot moves has the robot stopped by the other", async () => {
    await drive(a, DRIVER);
    await a.stop("SIGKILL");
    expect(sim.moving()).toBe("forward");

    await expect.poll(() => sim.moving(), { timeout: 10_000 }).toBeNull();
    expect(sim.commands().at(-1)?.command).toBe("stop");
    await expect
      .poll(() => b.logs.find((line) => line.msg?.toString().includes("past its deadline")))
      .toMatchObject({ robot: sim.name });
  });
});
