import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { openDatabase } from "../src/db/client.ts";
import { MemoryKv } from "../src/kv/memory.ts";
import type { RobotDriver } from "../src/robots/driver.ts";
import { tumbllerDriver } from "../src/robots/drivers/tumbller.ts";
import { MotionGuard } from "../src/robots/motion.ts";
import { OwedStopStore } from "../src/robots/owed-stops.ts";
import { LocalNameResolver } from "../src/robots/resolver.ts";
import { eventually } from "./helpers.ts";

// The dead-man and owed stops when the parts around a command fail: the shared store away, a command
// whose answer never comes, a Redis that forgot (or a process that died with) an owed stop. The store's
// failure is simulated (a Kv whose writes and reads throw, as ioredis does while Redis is away; the real
// outage is e2e/reliability/outages.test.ts); the robot is a real robot-sim and the database real.
class FlakyKv extends MemoryKv {
  away = false;
  override async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (this.away) throw new Error("Connection is closed.");
    return super.set(key, value, ttlMs);
  }
  override async setUnless(key: string, value: string, ttlMs: number, unlessKey: string): Promise<boolean> {
    if (this.away) throw new Error("Connection is closed.");
    return super.setUnless(key, value, ttlMs, unlessKey);
  }
  override async get(key: string): Promise<string | null> {
    if (this.away) throw new Error("Connection is closed.");
    return super.get(key);
  }
}

const silent = pino({ level: "silent" });
const options = { deadmanMs: 300, stopAttempts: 2, stopMaxDelayMs: 50 };
let sim: RobotSim;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await sim?.close();
});

async function robot() {
  // Motions that outlast the dead-man, so the stop seen is the platform's, not the firmware's own.
  sim = await startRobotSim({ name: "finland-tumbller-01", motionDurationsMs: { forward: 30_000 } });
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
  return { id: entry.id, driver };
}

async function database() {
  const opened = await openDatabase({ kind: "memory" });
  closers.push(() => opened.close());
  return new OwedStopStore(opened.db);
}

function guard(kv: MemoryKv, owed: OwedStopStore) {
  const made = new MotionGuard(kv, owed, silent, options);
  closers.push(() => made.close());
  return made;
}

it("a motion is stopped when its driver goes silent though the shared store went away after it", async () => {
  const { id, driver } = await robot();
  const kv = new FlakyKv();
  const motion = guard(kv, await database());
  await motion.drive(id, driver, "forward");
  kv.away = true;
  // Not sent: its stamp could not be shared. The motion before it is still the dead-man's.
  await expect(motion.drive(id, driver, "forward")).rejects.toThrow("Connection is closed.");
  expect(sim.commands().filter((c) => c.command === "forward")).toHaveLength(1);
  expect(sim.moving()).toBe("forward");
  expect(await eventually(() => sim.commands().at(-1)?.command === "stop", 3000)).toBe(true);
  expect(sim.moving()).toBeNull();
});

it("a command that reached the robot but whose answer never comes back is stopped by the dead-man", async () => {
  const { id, driver } = await robot();
  // The answer is lost on the way back (the link hangs): the command never returns.
  const hanging: RobotDriver = {
    ...driver,
    command: async (command) => {
      await driver.command(command);
      if (command !== "stop") await new Promise(() => {});
    },
  };
  const motion = guard(new MemoryKv(), await database());
  void motion.drive(id, hanging, "forward");
  expect(await eventually(() => sim.moving() === "forward", 3000)).toBe(true);
  expect(await eventually(() => sim.commands().at(-1)?.command === "stop", 3000)).toBe(true);
  expect(sim.moving()).toBeNull();
});

it("an owed stop is kept in the database: another process, with an empty shared store, delivers it", async () => {
  const { id, driver } = await robot();
  const owed = await database();
  const first = guard(new MemoryKv(), owed);
  await first.drive(id, driver, "forward");
  sim.setFaults("motor", { errorStatus: 500 });
  expect(await first.stop(id, driver, "released")).toBe(false);
  expect(await owed.list()).toEqual([{ robotId: id, reason: "released" }]);
  await first.close();

  // Another process, whose Redis holds nothing (flushed, or a new one), finds it and pays it.
  const second = guard(new MemoryKv(), owed);
  second.watch(() => [{ id, driver }]);
  sim.setFaults("motor", {});
  expect(await eventually(async () => (await owed.list()).length === 0, 8000)).toBe(true);
  expect(sim.commands().at(-1)?.command).toBe("stop");
  expect(sim.moving()).toBeNull();
});
