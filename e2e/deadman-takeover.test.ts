import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { robotsEnv, type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// A server process killed (SIGKILL: no shutdown, no stop) while a robot it drives is moving: the
// dead-man it had armed is taken over by the other instance, which stops the robot. Two real server
// processes on one PostgreSQL and Redis; the robot is a robot-sim whose motions outlast the test, so
// the stop seen is the platform's, not the firmware's own. Needs DATABASE_URL and REDIS_URL.
const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const DRIVER = "0x00000000000000000000000000000000000000d1";

describe.runIf(shared)("an instance that dies with an armed dead-man", () => {
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

  it("has its robot stopped by the other instance", async () => {
    const headers = { "x-wallet-address": DRIVER, "content-type": "application/json" };
    const bought = await fetch(`${a.url}/api/v1/access/purchase`, {
      method: "POST",
      headers,
      body: JSON.stringify({ robot_host: sim.name }),
    });
    expect(bought.status).toBe(200);
    const drive = await fetch(`${a.url}/api/v1/robot/motor/forward`, { headers });
    expect(drive.status).toBe(200);
    await a.stop("SIGKILL");
    expect(sim.moving()).toBe("forward");

    await expect.poll(() => sim.moving(), { timeout: 10_000 }).toBeNull();
    expect(sim.commands().at(-1)?.command).toBe("stop");
    const stoppedBy = b.logs.find((line) => line.msg?.toString().includes("past its deadline"));
    expect(stoppedBy).toMatchObject({ robot: sim.name });
  });
});
