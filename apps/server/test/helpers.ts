import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import pg from "pg";
import { pino } from "pino";
import { loadConfig } from "../src/config.ts";
import { createPlatform, type Platform } from "../src/dev/platform.ts";

/**
 * Where a test's data lives. With DATABASE_URL set (CI sets it) each test gets its own database on
 * that PostgreSQL server, so files running in parallel never see each other's rows; otherwise an
 * embedded PGlite in a temporary directory.
 */
export interface TestStorage {
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

export async function testStorage(): Promise<TestStorage> {
  const redisEnv: Record<string, string> = process.env.REDIS_URL
    ? { REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `robo402-test-${randomUUID()}:` }
    : {};
  const base = process.env.DATABASE_URL;
  if (!base) {
    const dir = mkdtempSync(join(tmpdir(), "robo402-"));
    return {
      env: { DATA_DIR: dir, ...redisEnv },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `robo402_${randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), ...redisEnv },
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** Paid mode on a running devchain (anvil, its test USDC, its facilitator), paying `payTo` when given. */
export const localChainEnv = (
  chain: { readonly facilitatorUrl: string; readonly rpcUrl: string },
  payTo?: string,
): Record<string, string> => ({
  PAYMENT_ENABLED: "true",
  X402_NETWORK: "local",
  FACILITATOR_URL: chain.facilitatorUrl,
  EVM_RPC_URL: chain.rpcUrl,
  ...(payTo ? { PAYMENT_ADDRESS: payTo } : {}),
});

/** The ROBOTS value that registers these simulators. */
export const robotsEnv = (sims: RobotSim[]) =>
  JSON.stringify(sims.map((sim) => ({ host: sim.name, motor_url: sim.motorUrl, camera_url: sim.cameraUrl })));

export interface TestPlatform {
  readonly platform: Platform;
  readonly sims: RobotSim[];
  request(path: string, init?: RequestInit & { wallet?: string }): Promise<Response>;
  purchase(wallet: string, robotHost: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Suites make hundreds of logins, purchases and verifies from one address (in-process calls all come from
 * "local"), which the production limits would refuse; a test of the limits sets its own.
 */
const RAISED_RATE_LIMITS = {
  LOGIN_RATE_LIMIT: "1000000",
  REGISTER_RATE_LIMIT: "1000000",
  PURCHASE_RATE_LIMIT: "1000000",
  VERIFY_RATE_LIMIT: "1000000",
};

/** The whole platform in this process, with robot-sims on loopback registered as its robots. */
export async function startTestPlatform(
  options: {
    robots?: string[];
    env?: Record<string, string>;
    /** Receives every log line at info and above, parsed, for tests that check what was logged. */
    logs?: Array<Record<string, unknown>>;
  } = {},
): Promise<TestPlatform> {
  const sims = await Promise.all(
    (options.robots ?? ["finland-tumbller-01", "finland-tumbller-02"]).map((name) => startRobotSim({ name })),
  );
  const storage = await testStorage();
  const config = loadConfig({
    SIMULATED_ROBOTS: "",
    SIMULATED_SERVICES: "false",
    ROBOTS: robotsEnv(sims),
    PAYMENT_ENABLED: "false",
    ...RAISED_RATE_LIMITS,
    ...storage.env,
    ...options.env,
  });
  const { logs } = options;
  const logger = logs
    ? pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) })
    : pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const platform = await createPlatform(config, logger);
  const request = (path: string, init: RequestInit & { wallet?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.wallet) headers.set("x-wallet-address", init.wallet);
    return Promise.resolve(platform.app.request(path, { ...init, headers }));
  };
  return {
    platform,
    sims,
    request,
    purchase: (wallet, robotHost) =>
      request("/api/v1/access/purchase", {
        method: "POST",
        wallet,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ robot_host: robotHost }),
      }),
    async close() {
      await platform.close();
      await Promise.all(sims.map((sim) => sim.close()));
      await storage.drop();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; the last value decides. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

export const wallet = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

export interface CallInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A JSON call to the platform, as the account whose access token is given (none: anonymous). */
export function callAs(t: TestPlatform, path: string, token: string | undefined, init: CallInit = {}) {
  return t.request(path, {
    method: init.method ?? "GET",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      ...init.headers,
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
}

/** Registers an account with `role` and returns its access token. */
export async function signUp(t: TestPlatform, email: string, role: string): Promise<string> {
  const response = await callAs(t, "/api/auth/register", undefined, {
    method: "POST",
    body: { email, password: "long-enough-password", role },
  });
  if (response.status !== 201) throw new Error(`sign-up of ${email} answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
