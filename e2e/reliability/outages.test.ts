import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type Cluster, startCluster } from "./cluster.ts";
import { auditLedger } from "./ledger.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
import { type Answer, keepCalling, recordingFetch } from "./traffic.ts";
import { fundedWallets } from "./wallets.ts";

// PostgreSQL and Redis going away under load: the server answers clear 503s while they are gone (never
// a 500, never a hang), keeps running, and serves again by itself when they are back. Afterwards the
// ledger still balances against the chain.
const FUNDS = 1_000_000n;
const PATIENCE_MS = 15_000;
const HELD = "tumbller-held";
const FREE = ["tumbller-free-1", "tumbller-free-2"];

let chain: Devchain;
let sims: RobotSim[] = [];
let cluster: Cluster | undefined;
let proxy: TcpProxy | undefined;
let admin: pg.Client | undefined;

beforeAll(async () => {
  chain = await startDevchain();
});
afterAll(async () => {
  await chain?.close();
});
afterEach(async () => {
  await admin?.end();
  admin = undefined;
  await cluster?.close();
  cluster = undefined;
  await proxy?.close();
  proxy = undefined;
  await Promise.all(sims.map((sim) => sim.close()));
  sims = [];
});

/**
 * Traffic a user would make: the holder of HELD drives and reads it; others try to buy the free robots
 * (each purchase a fresh wallet); anyone reads the robots' status.
 */
async function traffic(running: Cluster, answers: Answer[], token: string) {
  const server = running.servers[0] ?? expect.unreachable();
  // Taken in turn, each with money for a hundred purchases: an outage must not use them up.
  const buyers = await fundedWallets(chain, 10, 100n * FUNDS);
  let turn = 0;
  const driver = new Robo402Client({
    baseUrl: server.url,
    token,
    fetch: recordingFetch("motor", answers, PATIENCE_MS),
  });
  const holder = new Robo402Client({
    baseUrl: server.url,
    token,
    fetch: recordingFetch("session", answers, PATIENCE_MS),
  });
  const reader = new Robo402Client({
    baseUrl: server.url,
    fetch: recordingFetch("status", answers, PATIENCE_MS),
  });
  const driving = keepCalling(() => driver.drive("left"));
  const loops = [
    driving,
    keepCalling(() => holder.session()),
    keepCalling(() => reader.robot(HELD)),
    keepCalling(async () => {
      const buyer = buyers[turn++ % buyers.length] ?? expect.unreachable();
      const client = new Robo402Client({
        baseUrl: server.url,
        privateKey: buyer.privateKey,
        fetch: recordingFetch("purchase", answers, PATIENCE_MS),
      });
      await client.buy(FREE[turn % FREE.length] ?? expect.unreachable());
      await client.release();
    }),
  ];
  return { stopDriving: () => driving.stop(), stop: () => Promise.all(loops.map((loop) => loop.stop())) };
}

/** Everything the clients heard that a user must never hear: 5xx other than 503, or no answer at all. */
const unacceptable = (answers: Answer[]) =>
  answers.filter(
    (answer) =>
      answer.status === "hung" ||
      answer.status === "refused" ||
      (answer.status >= 500 && answer.status !== 503),
  );

async function setUp(env: Record<string, string> = {}) {
  // HELD turns until told to stop (no firmware auto-stop), so a motion left unwatched shows.
  sims = await Promise.all([
    startRobotSim({ name: HELD, motionDurationsMs: { left: 600_000 } }),
    ...FREE.map((name) => startRobotSim({ name })),
  ]);
  cluster = await startCluster(chain, sims, { instances: 1, env });
  const server = cluster.servers[0] ?? expect.unreachable();
  const [holder] = await fundedWallets(chain, 1, FUNDS);
  const client = new Robo402Client({ baseUrl: server.url, privateKey: holder?.privateKey });
  await client.buy(HELD);
  return { running: cluster, server, token: client.token ?? expect.unreachable() };
}

it("PostgreSQL dropping every connection (and refusing new ones) under load: 503s, then recovery", async () => {
  const { running, server, token } = await setUp();
  const name = new URL(running.databaseUrl).pathname.slice(1);
  admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  const answers: Answer[] = [];
  const load = await traffic(running, answers, token);
  await expect
    .poll(() => answers.filter((answer) => answer.status === 200).length, { timeout: 30_000 })
    .toBeGreaterThan(5);

  // Down: new connections refused (as while PostgreSQL restarts), every open one killed.
  await admin.query(`alter database ${name} allow_connections false`);
  await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [name]);
  const downFrom = answers.length;
  await expect
    .poll(() => answers.slice(downFrom).filter((answer) => answer.status === 503).length, { timeout: 30_000 })
    .toBeGreaterThan(3);

  await admin.query(`alter database ${name} allow_connections true`);
  const upFrom = answers.length;
  await expect
    .poll(() => answers.slice(upFrom).some((a) => a.label === "purchase" && a.status === 200), {
      timeout: 60_000,
    })
    .toBe(true);
  await load.stop();

  expect(unacceptable(answers)).toEqual([]);
  const outage = answers.slice(downFrom, upFrom).filter((answer) => answer.status === 503);
  expect(outage.every((answer) => typeof answer.detail === "string" && answer.detail.length > 0)).toBe(true);
  expect(server.child.exitCode).toBeNull();

  // Purchases the outage cut short are finished by recovery: a restart runs it at once.
  await server.stop();
  await running.start({ PAYMENT_RECOVERY_GRACE_MS: "0" });
  const audit = await auditLedger(running.databaseUrl, {
    rpcUrl: chain.rpcUrl,
    token: chain.token.address,
    payee: running.payee,
  });
  expect(audit.problems).toEqual([]);
});

it("Redis going away under load: 503s on what needs it, then recovery when it is back", async () => {
  const redis = new URL(process.env.REDIS_URL ?? expect.unreachable());
  proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const { running, server, token } = await setUp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  const held = sims[0] ?? expect.unreachable();
  const answers: Answer[] = [];
  const load = await traffic(running, answers, token);
  await expect
    .poll(() => answers.filter((answer) => answer.status === 200).length, { timeout: 30_000 })
    .toBeGreaterThan(5);

  await proxy.cut();
  const downFrom = answers.length;
  await expect
    .poll(() => answers.slice(downFrom).filter((a) => a.label === "motor" && a.status === 503).length, {
      timeout: 30_000,
    })
    .toBeGreaterThan(3);
  // The driver gives up; whatever motion reached the robot meanwhile must not run on unwatched (the
  // dead-man's shared stamp lives in Redis).
  await load.stopDriving();
  await expect.poll(() => held.moving(), { timeout: 15_000 }).toBeNull();

  await proxy.restore();
  const upFrom = answers.length;
  const restoredAt = Date.now();
  const driver = new Robo402Client({
    baseUrl: server.url,
    token,
    fetch: recordingFetch("motor", answers, PATIENCE_MS),
  });
  await expect
    .poll(
      () =>
        driver.drive("left").then(
          () => true,
          () => false,
        ),
      { timeout: 60_000 },
    )
    .toBe(true);
  await load.stop();
  expect(held.commands().some((entry) => entry.at >= restoredAt && entry.command === "left")).toBe(true);

  expect(unacceptable(answers)).toEqual([]);
  const outage = answers.slice(downFrom, upFrom).filter((answer) => answer.status === 503);
  expect(outage.every((answer) => typeof answer.detail === "string" && answer.detail.length > 0)).toBe(true);
  expect(server.child.exitCode).toBeNull();

  await server.stop();
  await running.start({ PAYMENT_RECOVERY_GRACE_MS: "0", REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  const audit = await auditLedger(running.databaseUrl, {
    rpcUrl: chain.rpcUrl,
    token: chain.token.address,
    payee: running.payee,
  });
  expect(audit.problems).toEqual([]);
});
