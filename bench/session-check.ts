/**
 * The motor route's first step, finding the caller's session and robot lock, measured in this process
 * through the platform's own classes on PGlite: the session cache in front of the store (what the
 * platform runs) against the same path with the cache turned off, so every call reads the database.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatform, loadConfig, signInOrigins } from "@robo402/server";
import { Hono } from "hono";
import { pino } from "pino";
import { SessionCache } from "../apps/server/src/access/cache.ts";
import { type ControlAuth, paidAuth, walletHeaderAuth } from "../apps/server/src/access/identity.ts";
import { AccessService, hashToken } from "../apps/server/src/access/service.ts";
import { type AccessSession, AccessStore } from "../apps/server/src/access/store.ts";
import { walletKey } from "../apps/server/src/access/wallet.ts";
import { SignInOrigins } from "../apps/server/src/auth/origins.ts";
import { MemoryKv } from "../apps/server/src/kv/memory.ts";

/** A cache that never holds anything: every lookup falls through to the store, as without a cache. */
class NoSessionCache extends SessionCache {
  constructor() {
    super(new MemoryKv());
  }

  override async get(): Promise<undefined> {
    return undefined;
  }

  override async set(_key: string, _session: AccessSession | undefined): Promise<void> {}
}

export interface SessionCheckFigures {
  /** Session checks per second, one at a time. */
  readonly cached: number;
  readonly uncached: number;
}

export interface SessionCheckResult {
  readonly paid: SessionCheckFigures;
  readonly free: SessionCheckFigures;
}

const ROBOT = "bench-session";
const WALLET = "0xbe4c000000000000000000000000000000000005";
const SESSION_MINUTES = 60;
const WARMUP_CALLS = 500;

/**
 * Ops/s of `auth.heldRobot` (the motor route's session and lock check) for a paid-mode bearer token and
 * a free-mode `X-Wallet-Address`, cached and uncached; the two sides take `rounds` turns of `roundMs`.
 */
export async function measureSessionChecks(options: {
  rounds: number;
  roundMs: number;
}): Promise<SessionCheckResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-session-"));
  const logger = pino({ level: "silent" });
  const config = loadConfig({
    SIMULATED_ROBOTS: "",
    SIMULATED_SERVICES: "false",
    // Never contacted: the session check only looks the robot up in the registry.
    ROBOTS: JSON.stringify([
      { host: ROBOT, motor_url: "http://127.0.0.1:9", camera_url: "http://127.0.0.1:9" },
    ]),
    DATA_DIR: dataDir,
    PAYMENT_ENABLED: "false",
    SESSION_DURATION_MINUTES: String(SESSION_MINUTES),
  });
  const platform = await createPlatform(config, logger);
  try {
    const store = new AccessStore(platform.database.db);
    const token = randomBytes(32).toString("base64url");
    const now = new Date();
    const granted = await store.grant({
      wallet: walletKey(WALLET),
      robotId: ROBOT,
      now,
      expiresAt: new Date(now.getTime() + SESSION_MINUTES * 60_000),
      tokenHash: hashToken(token),
    });
    if (!granted.ok) throw new Error(`could not open the bench session: ${granted.reason}`);

    const uncached = new AccessService(
      store,
      new NoSessionCache(),
      platform.robots,
      {
        sessionMinutes: SESSION_MINUTES,
        sweepMs: config.SESSION_SWEEP_MS,
        heartbeatMs: config.ROBOT_HEARTBEAT_MS,
      },
      logger,
    );
    const kv = new MemoryKv();
    const paid = (access: AccessService) =>
      checker(paidAuth(access, { kv, origins: new SignInOrigins(signInOrigins(config)) }), {
        authorization: `Bearer ${token}`,
      });
    const free = (access: AccessService) => checker(walletHeaderAuth(access), { "x-wallet-address": WALLET });
    return {
      paid: await race(paid(platform.access), paid(uncached), options),
      free: await race(free(platform.access), free(uncached), options),
    };
  } finally {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One session check as the motor route makes it: a request through Hono into `auth.heldRobot`. */
function checker(auth: ControlAuth, headers: Record<string, string>): () => Promise<void> {
  const app = new Hono().get("/check", async (c) => {
    const { robot } = await auth.heldRobot(c);
    return c.text(robot.id);
  });
  return async () => {
    const response = await app.request("/check", { headers });
    const body = await response.text();
    if (response.status !== 200 || body !== ROBOT) {
      throw new Error(`the session check answered ${response.status} ${body}`);
    }
  };
}

/** Both sides in turns, so drift on a noisy machine hits both alike; ops/s over all their turns. */
async function race(
  cached: () => Promise<void>,
  uncached: () => Promise<void>,
  options: { rounds: number; roundMs: number },
): Promise<SessionCheckFigures> {
  for (let i = 0; i < WARMUP_CALLS; i++) {
    await cached();
    await uncached();
  }
  const totals = { cached: { calls: 0, ms: 0 }, uncached: { calls: 0, ms: 0 } };
  for (let round = 0; round < options.rounds; round++) {
    for (const [side, check] of [
      ["cached", cached],
      ["uncached", uncached],
    ] as const) {
      const started = performance.now();
      const until = started + options.roundMs;
      let calls = 0;
      while (performance.now() < until) {
        await check();
        calls++;
      }
      totals[side].calls += calls;
      totals[side].ms += performance.now() - started;
    }
  }
  return {
    cached: (totals.cached.calls * 1000) / totals.cached.ms,
    uncached: (totals.uncached.calls * 1000) / totals.uncached.ms,
  };
}
