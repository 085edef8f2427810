import { randomUUID } from "node:crypto";
import { type BoardFaults, type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterEach, describe, expect, it } from "vitest";
import { type CountingProxy, countingProxy } from "./counting-proxy.ts";
import { eventually, sleep, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

const ROBOT = "finland-tumbller-01";
const DRIVER = wallet(1);

let sim: RobotSim;
let motor: CountingProxy;
let t: TestPlatform;
afterEach(async () => {
  await t.close();
  await motor.close();
  await sim.close();
});

/** A platform whose one robot's motor board is reached through a counting proxy. */
async function start(env: Record<string, string> = {}) {
  sim = await startRobotSim({ name: ROBOT });
  motor = await countingProxy(sim.motorUrl);
  t = await startTestPlatform({
    robots: [],
    env: {
      ROBOTS: JSON.stringify([{ host: ROBOT, motor_url: motor.url, camera_url: sim.cameraUrl }]),
      ROBOT_TIMEOUT_MS: "500",
      ...env,
    },
  });
}

const drive = (command = "forward") => t.request(`/api/v1/robot/motor/${command}`, { wallet: DRIVER });
const detail = async (response: Response) => ((await response.json()) as { detail: string }).detail;
const status = async () =>
  (await (await t.request("/api/v1/access/status", { wallet: DRIVER })).json()) as {
    active: boolean;
    expires_at: string;
    remaining_seconds: number;
  };

describe("a robot that fails", () => {
  it.each<[string, BoardFaults]>([
    ["offline", { offline: true }],
    ["answering 5xx", { errorStatus: 500 }],
    ["too slow", { slowMs: 5000 }],
  ])(
    "%s: 20 concurrent motor calls all get a 503 with the reason, and the board is asked once",
    async (_, faults) => {
      await start();
      expect((await t.purchase(DRIVER, ROBOT)).status).toBe(200);
      expect((await drive()).status).toBe(200);
      sim.setFaults("motor", faults);
      const before = motor.count("/motor/");

      const answers = await Promise.all(Array.from({ length: 20 }, () => drive()));

      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(503));
      const details = await Promise.all(answers.map(detail));
      for (const text of details)
        expect(text).toMatch(/^Robot motor (offline: .+; retrying in \d+ s|busy: .+)$/);
      expect(details.filter((text) => text.startsWith("Robot motor offline")).length).toBeGreaterThan(0);
      expect(motor.count("/motor/") - before).toBe(1);
      expect(motor.maxInFlight).toBe(1);

      // Back again: once its retry time is up a call reaches it, and control works as before.
      sim.setFaults("motor", {});
      // A slow board answers the requests it already took first, one at a time.
      expect(await eventually(async () => (await drive("stop")).status === 200, 15_000)).toBe(true);
      expect((await drive()).status).toBe(200);
    },
  );
});

describe("paid time and an outage", () => {
  it("the session's clock stops while its robot is unreachable, so its expiry moves by the outage", async () => {
    // 0.05 minutes = 3 s of paid time, less than the outage below: without the pause it would end in it.
    await start({ SESSION_DURATION_MINUTES: "0.05", SESSION_SWEEP_MS: "50" });
    expect((await t.purchase(DRIVER, ROBOT)).status).toBe(200);
    const before = await status();

    sim.setFaults("motor", { offline: true });
    const sentAt = Date.now();
    const failed = await drive();
    const failedAt = Date.now();
    expect(failed.status).toBe(503);
    expect(await detail(failed)).toMatch(/^Robot motor offline: unreachable .*; retrying in \d+ s$/);
    await sleep(3500);
    const healedAt = Date.now();
    sim.setFaults("motor", {});

    expect(await eventually(async () => (await drive()).status === 200, 8000)).toBe(true);
    const recoveredAt = Date.now();
    // The clock runs again: what status says now stays said.
    await sleep(300);
    const after = await status();
    await sleep(300);
    expect((await status()).expires_at).toBe(after.expires_at);
    const extendedBy = Date.parse(after.expires_at) - Date.parse(before.expires_at);
    // At least the time the robot was away as the test saw it; at most from the call to noticing it back.
    expect(extendedBy).toBeGreaterThanOrEqual(healedAt - failedAt);
    expect(extendedBy).toBeLessThanOrEqual(recoveredAt - sentAt + 1);
    expect(after.active).toBe(true);
    expect((await drive()).status).toBe(200);

    // Kept in the database, not only in this process.
    const live = await t.platform.access.forWallet(DRIVER);
    const row = live && (await t.platform.access.session(live.id));
    expect(row?.expiresAt.toISOString()).toBe(after.expires_at);
    expect(row?.outageSince).toBeNull();
  });
});

describe("a stop the robot could not take", () => {
  it("is delivered when the robot answers again, after the retries ran out", async () => {
    await start({ STOP_RETRY_ATTEMPTS: "2", STOP_RETRY_MAX_DELAY_MS: "100" });
    expect((await t.purchase(DRIVER, ROBOT)).status).toBe(200);
    expect((await drive()).status).toBe(200);
    sim.setFaults("motor", { offline: true });

    expect((await t.request("/api/v1/access/release", { method: "POST", wallet: DRIVER })).status).toBe(200);
    // Both attempts reached the board and were dropped; then the stop is owed, not forgotten.
    expect(await eventually(() => motor.count("/motor/stop") >= 2, 5000)).toBe(true);
    await sleep(1000);
    expect(sim.commands().some((entry) => entry.command === "stop")).toBe(false);

    sim.setFaults("motor", {});
    expect(await eventually(() => sim.commands().at(-1)?.command === "stop", 10_000)).toBe(true);
    expect(sim.moving()).toBeNull();
  });
});

describe.skipIf(!process.env.REDIS_URL)(
  process.env.REDIS_URL
    ? "a stop owed by a server that went away"
    : "an owed stop across servers (needs REDIS_URL)",
  () => {
    let other: TestPlatform | undefined;
    afterEach(async () => {
      await other?.close();
    });

    it("is delivered by another server sharing its Redis", async () => {
      const prefix = `robo402-test-${randomUUID()}:`;
      await start({ STOP_RETRY_ATTEMPTS: "2", STOP_RETRY_MAX_DELAY_MS: "100", REDIS_PREFIX: prefix });
      other = await startTestPlatform({
        robots: [],
        env: {
          ROBOTS: JSON.stringify([{ host: ROBOT, motor_url: motor.url, camera_url: sim.cameraUrl }]),
          REDIS_PREFIX: prefix,
        },
      });
      expect((await t.purchase(DRIVER, ROBOT)).status).toBe(200);
      expect((await drive()).status).toBe(200);
      sim.setFaults("motor", { offline: true });
      expect((await t.request("/api/v1/access/release", { method: "POST", wallet: DRIVER })).status).toBe(
        200,
      );
      expect(await eventually(() => motor.count("/motor/stop") >= 2, 5000)).toBe(true);

      // The server that owed the stop is gone before the robot comes back.
      await t.platform.close();
      sim.setFaults("motor", {});
      expect(await eventually(() => sim.commands().at(-1)?.command === "stop", 15_000)).toBe(true);
    });
  },
);
