import { afterEach, describe, expect, it } from "vitest";
import { callAs, eventually, sleep, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

const ROBOT = "finland-tumbller-01";
const DRIVER = wallet(1);
let t: TestPlatform;
afterEach(async () => {
  await t.close();
});

it("an expired session stops its robot and frees it", async () => {
  // 0.02 minutes = 1.2 s.
  t = await startTestPlatform({ env: { SESSION_DURATION_MINUTES: "0.02", SESSION_SWEEP_MS: "50" } });
  await t.purchase(DRIVER, ROBOT);
  expect((await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER })).status).toBe(200);
  const [sim] = t.sims;
  expect(await eventually(() => sim?.commands().at(-1)?.command === "stop", 4000)).toBe(true);
  expect((await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER })).status).toBe(403);
  expect(await (await t.request("/api/v1/access/status", { wallet: DRIVER })).json()).toEqual({
    active: false,
  });
  expect((await t.purchase(wallet(2), ROBOT)).status).toBe(200);
});

it("a driver that goes silent gets its robot stopped after DEADMAN_MS", async () => {
  t = await startTestPlatform({ env: { DEADMAN_MS: "300" } });
  await t.purchase(DRIVER, ROBOT);
  const [sim] = t.sims;
  // A held key: commands every 100 ms keep the robot going.
  for (let i = 0; i < 6; i++) {
    await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER });
    await sleep(100);
  }
  expect(sim?.commands().filter((c) => c.command === "stop")).toHaveLength(0);
  const silentFrom = Date.now();
  expect(await eventually(() => sim?.commands().at(-1)?.command === "stop", 3000)).toBe(true);
  const stop = sim?.commands().at(-1);
  expect((stop?.at ?? 0) - silentFrom).toBeGreaterThanOrEqual(150);
  expect(sim?.moving()).toBeNull();
});

it("a robot that misses the stop gets it again until it answers", async () => {
  t = await startTestPlatform({ env: { STOP_RETRY_MAX_DELAY_MS: "100" } });
  await t.purchase(DRIVER, ROBOT);
  await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER });
  const [sim] = t.sims;
  sim?.setFaults("motor", { errorStatus: 500 });
  expect((await t.request("/api/v1/access/release", { method: "POST", wallet: DRIVER })).status).toBe(200);
  await sleep(400);
  expect(sim?.commands().some((c) => c.command === "stop")).toBe(false);
  sim?.setFaults("motor", {});
  expect(await eventually(() => sim?.commands().at(-1)?.command === "stop", 3000)).toBe(true);
});

describe("an admin's suspension or a deletion ends the robot's session and stops it", () => {
  async function drivenWithAdmin() {
    t = await startTestPlatform({
      env: { ADMIN_EMAIL: "admin@robo402.test", ADMIN_PASSWORD: "admin-password" },
    });
    const login = await callAs(t, "/api/auth/login", undefined, {
      method: "POST",
      body: { email: "admin@robo402.test", password: "admin-password" },
    });
    const admin = ((await login.json()) as { access_token: string }).access_token;
    const listed = (await (await callAs(t, "/api/admin/robots", admin)).json()) as {
      robots: { id: string; host: string | null }[];
    };
    const id = listed.robots.find((robot) => robot.host === ROBOT)?.id ?? expect.unreachable();
    expect((await t.purchase(DRIVER, ROBOT)).status).toBe(200);
    expect((await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER })).status).toBe(200);
    expect(t.sims[0]?.moving()).toBe("forward");
    return { admin, id };
  }

  async function expectEnded() {
    const [sim] = t.sims;
    expect(sim?.commands().at(-1)?.command).toBe("stop");
    expect(sim?.moving()).toBeNull();
    expect(await (await t.request("/api/v1/access/status", { wallet: DRIVER })).json()).toEqual({
      active: false,
    });
    expect((await t.request("/api/v1/robot/motor/forward", { wallet: DRIVER })).status).toBe(403);
    expect(sim?.moving()).toBeNull();
  }

  it("suspended by an admin", async () => {
    const { admin, id } = await drivenWithAdmin();
    expect((await callAs(t, `/api/admin/robots/${id}/suspend`, admin, { method: "POST" })).status).toBe(200);
    await expectEnded();
  });

  it("deleted", async () => {
    const { admin, id } = await drivenWithAdmin();
    expect((await callAs(t, `/api/robots/${id}`, admin, { method: "DELETE" })).status).toBe(204);
    await expectEnded();
  });
});
