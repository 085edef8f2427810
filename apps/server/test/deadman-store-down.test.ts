import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { MemoryKv } from "../src/kv/memory.ts";
import { tumbllerDriver } from "../src/robots/drivers/tumbller.ts";
import { MotionGuard } from "../src/robots/motion.ts";
import { LocalNameResolver } from "../src/robots/resolver.ts";
import { eventually } from "./helpers.ts";

// The shared store failing right after a motor command reached the robot must not leave it moving with
// no dead-man. The store's failure is simulated (a Kv whose writes and reads throw, as ioredis does while
// Redis is away; the real outage is e2e/reliability/outages.test.ts); the robot is a real robot-sim.
class StoreAway extends MemoryKv {
  override async set(): Promise<void> {
    throw new Error("Connection is closed.");
  }
  override async get(): Promise<string | null> {
    throw new Error("Connection is closed.");
  }
}

let sim: RobotSim;
afterEach(async () => {
  await sim?.close();
});

it("a motion whose dead-man stamp cannot be shared is still stopped when its driver goes silent", async () => {
  // Motions that outlast the dead-man, so the stop seen is the platform's, not the firmware's own.
  sim = await startRobotSim({ name: "finland-tumbller-01", motionDurationsMs: { forward: 10_000 } });
  const entry = {
    id: sim.name,
    driver: "tumbller" as const,
    motorUrl: sim.motorUrl,
    cameraUrl: sim.cameraUrl,
  };
  const driver = tumbllerDriver(entry, {
    resolver: new LocalNameResolver(),
    timeoutMs: 2000,
    cameraTimeoutMs: 2000,
  });
  const guard = new MotionGuard(new StoreAway(), pino({ level: "silent" }), {
    deadmanMs: 300,
    stopAttempts: 3,
    stopMaxDelayMs: 100,
  });
  try {
    await expect(guard.drive(entry.id, driver, "forward")).rejects.toThrow("Connection is closed.");
    expect(sim.moving()).not.toBeNull();
    expect(await eventually(() => sim.commands().at(-1)?.command === "stop", 3000)).toBe(true);
    expect(sim.moving()).toBeNull();
  } finally {
    await guard.close();
  }
});
