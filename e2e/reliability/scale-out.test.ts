import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Cluster, startCluster } from "./cluster.ts";
import { auditLedger } from "./ledger.ts";

// Two server processes sharing only PostgreSQL and Redis: a session bought on one drives, reads and
// holds the robot through the other, and is released through the first.
const ROBOT = "finland-tumbller-01";
const PRICE = 100_000n;

let chain: Devchain;
let sim: RobotSim;
let cluster: Cluster;

beforeAll(async () => {
  chain = await startDevchain();
  // Short motions, so the robot-sim's pose settles soon after each command.
  sim = await startRobotSim({ name: ROBOT, motionDurationsMs: { forward: 400, back: 400 } });
  cluster = await startCluster(chain, [sim], { instances: 2 });
});
afterAll(async () => {
  await cluster?.close();
  await sim?.close();
  await chain?.close();
});

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const masked = (address: string) => `${address.slice(0, 6)}...${address.slice(-4)}`.toLowerCase();

it("buy on one instance, drive and read on the other, release through the first", async () => {
  const [a, b] = cluster.servers;
  if (!a || !b) expect.unreachable();
  const payer = account(1);
  const before = await chain.balanceOf(payer.address);

  const onA = new Robo402Client({ baseUrl: a.url, privateKey: payer.privateKey });
  const purchase = await onA.buy(ROBOT);
  expect(purchase.session).toMatchObject({ active: true, robot_host: ROBOT });
  expect(await chain.balanceOf(payer.address)).toBe(before - PRICE);
  expect(await chain.balanceOf(cluster.payee)).toBe(PRICE);

  const onB = new Robo402Client({ baseUrl: b.url, token: onA.token });
  expect(await onB.session()).toMatchObject({ active: true, robot_host: ROBOT });
  const start = sim.pose();
  expect(await onB.drive("forward")).toEqual({ status: "ok", command: "forward" });
  expect(sim.commands().at(-1)?.command).toBe("forward");
  await expect.poll(() => sim.pose().x, { timeout: 10_000 }).toBeGreaterThan(start.x);
  expect((await onB.frame()).slice(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));

  // The lock holds on both: another wallet is refused on either instance, before paying anything.
  const rival = account(2);
  const rivalBefore = await chain.balanceOf(rival.address);
  for (const server of [a, b]) {
    await expect(
      new Robo402Client({ baseUrl: server.url, privateKey: rival.privateKey }).buy(ROBOT),
    ).rejects.toMatchObject({ status: 409, detail: `Robot '${ROBOT}' is currently in use.` });
    const status = await new Robo402Client({ baseUrl: server.url }).robot(ROBOT);
    expect(status).toMatchObject({ available: false, locked_by: masked(payer.address) });
  }
  expect(await chain.balanceOf(rival.address)).toBe(rivalBefore);

  expect(await onA.release()).toEqual({ status: "released", robot_host: ROBOT });
  await expect.poll(() => sim.commands().at(-1)?.command, { timeout: 10_000 }).toBe("stop");
  // The token released on A no longer drives through B, and B sees the robot free.
  await expect(onB.drive("back")).rejects.toMatchObject({ status: 401 });
  expect(await new Robo402Client({ baseUrl: b.url }).robot(ROBOT)).toMatchObject({
    available: true,
    locked_by: null,
  });
  const audit = await auditLedger(cluster.databaseUrl, {
    rpcUrl: chain.rpcUrl,
    token: chain.token.address,
    payee: cluster.payee,
  });
  expect(audit).toEqual({ problems: [], granted: 1, refundDue: 0, transfers: 1 });
});
