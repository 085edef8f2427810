import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, expect, it } from "vitest";
import { robotsEnv, sleep, type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// The CLI as a person runs it, against the server as a process, paying on a real local chain.
const CLI = fileURLToPath(new URL("../packages/client/bin/robo402.js", import.meta.url));
const ROBOT = "finland-tumbller-01";

let chain: Devchain;
let sim: RobotSim;
let storage: TestStorage;
let server: ServerProcess;
let home: string;

beforeAll(async () => {
  [chain, sim, storage] = await Promise.all([startDevchain(), startRobotSim({ name: ROBOT }), testStorage()]);
  home = mkdtempSync(join(tmpdir(), "robo402-cli-"));
  server = await startServer({
    SIMULATED_ROBOTS: "",
    ROBOTS: robotsEnv([sim]),
    PAYMENT_ENABLED: "true",
    FACILITATOR_URL: chain.facilitatorUrl,
    EVM_RPC_URL: chain.rpcUrl,
    PAYMENT_ADDRESS: chain.accounts[8]?.address ?? "",
    ...storage.env,
  });
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([chain?.close(), sim?.close(), storage?.drop()]);
  rmSync(home, { recursive: true, force: true });
});

const robo402 = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, "--server", server.url], {
    env: { ...process.env, ROBO402_HOME: home },
  });
  return stdout;
};

it("lists, buys with a key, drives, saves a frame and releases; the chain moves exactly the price", async () => {
  const payer = chain.accounts[2] ?? expect.unreachable();
  const payee = chain.accounts[8]?.address ?? expect.unreachable();
  const [payerBefore, payeeBefore] = await Promise.all([
    chain.balanceOf(payer.address),
    chain.balanceOf(payee),
  ]);

  expect(await robo402("robots")).toBe(`${ROBOT}\tfree\n`);
  const bought = await robo402("buy", ROBOT, "--key", payer.privateKey);
  expect(bought).toMatch(/^Access granted to 'finland-tumbller-01' for 10 minutes\npaid: 0x[0-9a-f]{64}\n/);
  expect(statSync(join(home, "session.json")).mode & 0o777).toBe(0o600);
  expect(await chain.balanceOf(payer.address)).toBe(payerBefore - 100_000n);
  expect(await chain.balanceOf(payee)).toBe(payeeBefore + 100_000n);

  const before = sim.pose();
  expect(await robo402("drive", "forward")).toBe("forward: ok\n");
  await sleep(300);
  expect(sim.pose().x).toBeGreaterThan(before.x);

  const out = join(home, "frame.jpg");
  expect(await robo402("frame", out)).toMatch(/frame\.jpg: \d+ bytes/);
  expect([...readFileSync(out).subarray(0, 2)]).toEqual([0xff, 0xd8]);
  expect(JSON.parse(await robo402("status"))).toMatchObject({ active: true, robot_host: ROBOT });

  expect(await robo402("release")).toBe(`released ${ROBOT}\n`);
  expect(await robo402("robots")).toBe(`${ROBOT}\tfree\n`);
  // Eight CLI processes, each starting Node and tsx: past 30 s on a busy CI machine.
}, 90_000);

it("a command that fails says why and exits 1", async () => {
  const failed = await robo402("drive", "forward").catch((error: { code: number; stderr: string }) => error);
  expect(failed).toMatchObject({ code: 1 });
  expect((failed as { stderr: string }).stderr).toMatch(/robo402: HTTP 401: Session token required/);
});
