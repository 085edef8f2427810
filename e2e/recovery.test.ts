import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { robotsEnv, type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// A server killed (SIGKILL) at each step of a paid purchase, then restarted on the same database and
// chain: no payment settled without a session (or a refund record), no robot held without a session.
const ROBOT = "finland-tumbller-01";
const PRICE = 100_000n;

let chain: Devchain;
let sims: RobotSim[];
let storage: TestStorage;
let servers: ServerProcess[] = [];

beforeAll(async () => {
  chain = await startDevchain();
});
afterAll(async () => {
  await chain?.close();
});
beforeEach(async () => {
  sims = [await startRobotSim({ name: ROBOT })];
  storage = await testStorage();
});
afterEach(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  servers = [];
  await Promise.all(sims.map((sim) => sim.close()));
  await storage.drop();
});

async function server(env: Record<string, string> = {}): Promise<ServerProcess> {
  const started = await startServer({
    SIMULATED_ROBOTS: "",
    ROBOTS: robotsEnv(sims),
    PAYMENT_ENABLED: "true",
    X402_NETWORK: "local",
    FACILITATOR_URL: chain.facilitatorUrl,
    EVM_RPC_URL: chain.rpcUrl,
    PAYMENT_ADDRESS: payee(),
    PAYMENT_RECOVERY_GRACE_MS: "0",
    ...storage.env,
    ...env,
  });
  servers.push(started);
  return started;
}

const payee = () => chain.accounts[8]?.address ?? expect.unreachable();

describe.each([
  { crashAfter: "verify", charged: false, held: false },
  { crashAfter: "lock", charged: false, held: false },
  { crashAfter: "settle", charged: true, held: true },
  { crashAfter: "session", charged: true, held: true },
])("killed after $crashAfter", ({ crashAfter, charged, held }) => {
  it(`restarts with ${charged ? "the paid session granted" : "nothing charged and the robot free"}`, async () => {
    const payer =
      chain.accounts[
        crashAfter === "verify" ? 1 : crashAfter === "lock" ? 2 : crashAfter === "settle" ? 3 : 4
      ];
    if (!payer) expect.unreachable();
    const before = await chain.balanceOf(payer.address);
    const doomed = await server({ ROBO402_CRASH_AFTER: crashAfter });
    const client = new Robo402Client({ baseUrl: doomed.url, privateKey: payer.privateKey });
    await expect(client.buy(ROBOT)).rejects.toThrow();
    await doomed.stop();
    expect(doomed.child.signalCode).toBe("SIGKILL");

    const revived = await server();
    expect(await chain.balanceOf(payer.address)).toBe(charged ? before - PRICE : before);
    const status = (await (await fetch(`${revived.url}/api/v1/robot/status?robot_host=${ROBOT}`)).json()) as {
      available: boolean;
      locked_by: string | null;
    };
    if (held) {
      expect(status.available).toBe(false);
      expect(status.locked_by).toBe(
        `${payer.address.slice(0, 6)}...${payer.address.slice(-4)}`.toLowerCase(),
      );
    } else {
      // The hold a crash left behind does not block the next buyer: they pay and get the robot.
      const next = new Robo402Client({ baseUrl: revived.url, privateKey: chain.accounts[5]?.privateKey });
      expect((await next.buy(ROBOT)).status).toBe("success");
    }
    // Two server starts on PGlite (about 5 s each on a quiet machine, three times that on a busy one).
  }, 90_000);
});
