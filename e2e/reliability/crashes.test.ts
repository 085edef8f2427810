import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "./cluster.ts";
import { auditLedger } from "./ledger.ts";
import { fundedWallets } from "./wallets.ts";

// e2e/recovery.test.ts kills a lone server at each step of one purchase and checks the buyer's balance
// and the robot. Here the kill lands while other purchases are in flight, on the dying instance and on
// a second one that survives; after the restart the database and the chain must agree for every buyer.
const PRICE = 100_000n;
const FUNDS = 1_000_000n;
const ROBOTS = ["tumbller-a", "tumbller-b", "tumbller-c", "tumbller-d"];

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

/** Per payer: what the ledger says their payment became, and whether they hold a robot now. */
async function ledgerFor(databaseUrl: string, payer: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const payments = await db.query<{ status: string }>("select status from payments where payer = $1", [
      payer.toLowerCase(),
    ]);
    const sessions = await db.query(
      "select 1 from access_sessions where wallet = $1 and ended_at is null and not pending",
      [payer.toLowerCase()],
    );
    return { statuses: payments.rows.map((row) => row.status), holds: sessions.rowCount === 1 };
  } finally {
    await db.end();
  }
}

describe.each(["verify", "lock", "settle", "session"])(
  "kill -9 after %s with purchases in flight",
  (step) => {
    it("after a restart every charged buyer holds a session or is owed a refund; nobody else is charged", async () => {
      sims = await Promise.all(ROBOTS.map((name) => startRobotSim({ name })));
      const buyers = await fundedWallets(chain, ROBOTS.length, FUNDS);
      cluster = await startCluster(chain, sims, { instances: 1 });
      const survivor = cluster.servers[0] ?? expect.unreachable();
      const doomed = await cluster.start({ ROBO402_CRASH_AFTER: step });

      // Two purchases through the instance that dies at `step`, two through the one that survives.
      const results = await Promise.allSettled(
        buyers.map((buyer, i) =>
          new Robo402Client({
            baseUrl: (i < 2 ? doomed : survivor).url,
            privateKey: buyer.privateKey,
          }).buy(ROBOTS[i] ?? expect.unreachable()),
        ),
      );
      await doomed.stop();
      expect(doomed.child.signalCode).toBe("SIGKILL");
      expect(results.slice(2).map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);

      // The restart finishes what the crash interrupted (no grace: nothing else is buying now).
      const revived = await cluster.start({ PAYMENT_RECOVERY_GRACE_MS: "0" });
      const view = { rpcUrl: chain.rpcUrl, token: chain.token.address, payee: cluster.payee };
      const audit = await auditLedger(cluster.databaseUrl, view);
      expect(audit.problems).toEqual([]);

      let charged = 0n;
      for (const [i, buyer] of buyers.entries()) {
        const spent = FUNDS - (await chain.balanceOf(buyer.address));
        const { statuses, holds } = await ledgerFor(cluster.databaseUrl, buyer.address);
        expect(spent === 0n || spent === PRICE, `buyer ${i} spent ${spent}`).toBe(true);
        if (spent === PRICE) {
          expect(holds || statuses.includes("refund_due"), `buyer ${i} paid: ${statuses}`).toBe(true);
          charged += PRICE;
        } else {
          expect(holds, `buyer ${i} paid nothing yet holds a robot`).toBe(false);
          expect(statuses.filter((status) => status === "granted" || status === "refund_due")).toEqual([]);
        }
      }
      expect(await chain.balanceOf(cluster.payee)).toBe(charged);

      // Every robot nobody paid for can be bought again, through the restarted instance.
      for (const robot of ROBOTS) {
        const status = await new Robo402Client({ baseUrl: revived.url }).robot(robot);
        if (status.available) {
          const [next] = await fundedWallets(chain, 1, FUNDS);
          const purchase = await new Robo402Client({
            baseUrl: revived.url,
            privateKey: next?.privateKey,
          }).buy(robot);
          expect(purchase.session).toMatchObject({ active: true, robot_host: robot });
        }
      }
      expect((await auditLedger(cluster.databaseUrl, view)).problems).toEqual([]);
    });
  },
);
