import { type Purchase, Robo402Client, type Robo402Error } from "@robo402/client";
import { type DevAccount, type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type Cluster, startCluster } from "./cluster.ts";
import { auditLedger } from "./ledger.ts";
import { fundedWallets } from "./wallets.ts";

// Many wallets paying for the same robots at the same moment, through two server processes on one
// PostgreSQL and Redis: each robot is sold once and charged once; every other buyer gets a 409 and
// keeps their money. Checked where a user would: balances on chain and rows in the database.
const PRICE = 100_000n;
const FUNDS = 1_000_000n;
// The robot-sims answer from this test's own event loop, which is busy signing for hundreds of payers:
// give their /info more time than a real robot gets, so a slow sim is not reported as an offline robot.
const SLOW_SIMS = { ROBOT_TIMEOUT_MS: "15000" };

let chain: Devchain;
let sims: RobotSim[] = [];
let cluster: Cluster | undefined;

beforeAll(async () => {
  chain = await startDevchain();
});
afterAll(async () => {
  await chain?.close();
});
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await Promise.all(sims.map((sim) => sim.close()));
  sims = [];
});

/** Every wallet buys its robot at once, alternating between the instances. */
async function buyAll(running: Cluster, orders: Array<{ wallet: DevAccount; robot: string }>) {
  const results = await Promise.allSettled(
    orders.map(({ wallet, robot }, i) => {
      const server = running.servers[i % running.servers.length] ?? expect.unreachable();
      return new Robo402Client({ baseUrl: server.url, privateKey: wallet.privateKey }).buy(robot);
    }),
  );
  return orders.map((order, i) => ({ ...order, result: results[i] ?? expect.unreachable() }));
}

const refusals = (outcomes: Array<{ result: PromiseSettledResult<Purchase> }>) =>
  outcomes.flatMap(({ result }) =>
    result.status === "rejected"
      ? [{ status: (result.reason as Robo402Error).status, detail: (result.reason as Robo402Error).detail }]
      : [],
  );

async function activeSessions(databaseUrl: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ wallet: string; robot_id: string }>(
      "select wallet, robot_id from access_sessions where ended_at is null and not pending",
    );
    return rows;
  } finally {
    await db.end();
  }
}

it("100 wallets buying one robot through two instances: one session, one transfer, 99 × 409 uncharged", async () => {
  const robot = "finland-tumbller-01";
  sims = [await startRobotSim({ name: robot })];
  const wallets = await fundedWallets(chain, 100, FUNDS);
  cluster = await startCluster(chain, sims, { instances: 2, env: SLOW_SIMS });

  const outcomes = await buyAll(
    cluster,
    wallets.map((wallet) => ({ wallet, robot })),
  );
  const winners = outcomes.filter(({ result }) => result.status === "fulfilled");
  expect(winners).toHaveLength(1);
  expect(refusals(outcomes)).toEqual(
    Array(99).fill({ status: 409, detail: `Robot '${robot}' is currently in use.` }),
  );

  expect(await chain.balanceOf(cluster.payee)).toBe(PRICE);
  const balances = await Promise.all(wallets.map((wallet) => chain.balanceOf(wallet.address)));
  const winner = winners[0]?.wallet ?? expect.unreachable();
  expect(balances.filter((balance) => balance === FUNDS - PRICE)).toHaveLength(1);
  expect(balances.filter((balance) => balance === FUNDS)).toHaveLength(99);
  expect(await chain.balanceOf(winner.address)).toBe(FUNDS - PRICE);

  expect(await activeSessions(cluster.databaseUrl)).toEqual([
    { wallet: winner.address.toLowerCase(), robot_id: robot },
  ]);
  expect(
    await auditLedger(cluster.databaseUrl, {
      rpcUrl: chain.rpcUrl,
      token: chain.token.address,
      payee: cluster.payee,
    }),
  ).toEqual({ problems: [], granted: 1, refundDue: 0, transfers: 1 });
});

it("200 wallets buying 20 robots at once: 20 sessions, 20 transfers, no wallet holding two robots", async () => {
  const robots = Array.from({ length: 20 }, (_, i) => `tumbller-${String(i + 1).padStart(2, "0")}`);
  sims = await Promise.all(robots.map((name) => startRobotSim({ name })));
  const wallets = await fundedWallets(chain, 200, FUNDS);
  cluster = await startCluster(chain, sims, { instances: 2, env: SLOW_SIMS });

  const outcomes = await buyAll(
    cluster,
    wallets.map((wallet, i) => ({ wallet, robot: robots[i % robots.length] ?? expect.unreachable() })),
  );
  const winners = outcomes.filter(({ result }) => result.status === "fulfilled");
  expect(new Set(winners.map(({ robot }) => robot))).toEqual(new Set(robots));
  expect(winners).toHaveLength(20);
  const refused = refusals(outcomes);
  expect(refused.filter(({ status }) => status !== 409)).toEqual([]);
  expect(refused).toHaveLength(180);

  expect(await chain.balanceOf(cluster.payee)).toBe(20n * PRICE);
  const winning = new Set(winners.map(({ wallet }) => wallet.address));
  for (const wallet of wallets)
    expect(await chain.balanceOf(wallet.address)).toBe(winning.has(wallet.address) ? FUNDS - PRICE : FUNDS);

  const sessions = await activeSessions(cluster.databaseUrl);
  expect(sessions).toHaveLength(20);
  expect(new Set(sessions.map((session) => session.robot_id))).toEqual(new Set(robots));
  expect(new Set(sessions.map((session) => session.wallet))).toEqual(
    new Set([...winning].map((address) => address.toLowerCase())),
  );
  expect(
    await auditLedger(cluster.databaseUrl, {
      rpcUrl: chain.rpcUrl,
      token: chain.token.address,
      payee: cluster.payee,
    }),
  ).toEqual({ problems: [], granted: 20, refundDue: 0, transfers: 20 });
});
