import { afterEach, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

// Runs on PGlite, and on PostgreSQL when DATABASE_URL is set (as CI does).
let t: TestPlatform;
afterEach(async () => {
  await t.close();
});

it("50 wallets buying one robot at once: exactly one 200 and 49 × 409", async () => {
  t = await startTestPlatform();
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => t.purchase(wallet(i + 1), "finland-tumbller-01")),
  );
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  const winner = answers.findIndex((r) => r.status === 200);
  const held = await t.request("/api/v1/access/status", { wallet: wallet(winner + 1) });
  expect(await held.json()).toMatchObject({ active: true, robot_host: "finland-tumbller-01" });
});

it("one wallet buying two robots at once ends up holding exactly one", async () => {
  t = await startTestPlatform();
  const buyer = wallet(7);
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      t.purchase(buyer, i % 2 ? "finland-tumbller-01" : "finland-tumbller-02"),
    ),
  );
  expect(answers.some((r) => r.status === 200)).toBe(true);
  const statuses = await Promise.all(
    ["finland-tumbller-01", "finland-tumbller-02"].map(async (host) => {
      const r = await t.request(`/api/v1/robot/status?robot_host=${host}`);
      return ((await r.json()) as { available: boolean }).available;
    }),
  );
  expect(statuses.filter((available) => !available)).toHaveLength(1);
});
