import { randomUUID } from "node:crypto";
import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startTcpProxy, type TcpProxy } from "../../../e2e/reliability/tcp-proxy.ts";
import { SessionCache } from "../src/access/cache.ts";
import { type AccessSession, AccessStore } from "../src/access/store.ts";
import { MemoryKv } from "../src/kv/memory.ts";
import { localChainEnv, startTestPlatform, type TestPlatform } from "./helpers.ts";

// A session's token drives nothing once the answer that ended it (a release, a purchase that replaced
// it) has been given, though the motor path reads sessions through a cache; and a purchase whose session
// committed is answered with its token even if Redis goes away right then. Real chain, real robot-sims;
// the platform's cache is whatever the run gives it (in-process, or REDIS_URL's Redis).
const ROBOT = "finland-tumbller-01";
const OTHER_ROBOT = "finland-tumbller-02";

let chain: Devchain;
let t: TestPlatform | undefined;
let proxy: TcpProxy | undefined;
beforeAll(async () => {
  chain = await startDevchain();
});
afterAll(async () => {
  await chain?.close();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
  t = undefined;
  await proxy?.close();
  proxy = undefined;
});

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const paidPlatform = (env: Record<string, string> = {}) =>
  startTestPlatform({
    env: {
      ...localChainEnv(chain, account(8).address),
      ...env,
    },
  });
const platform = () => t ?? expect.unreachable();
const access = () => platform().platform.access;
const clientFor = (i: number) =>
  new Robo402Client({
    baseUrl: "http://robo402.test",
    privateKey: account(i).privateKey,
    fetch: async (input, init) => platform().platform.app.request(new Request(input, init)),
  });
const motor = (token: string) =>
  platform().request("/api/v1/robot/motor/forward", { headers: { authorization: `Bearer ${token}` } });
const release = (token: string) =>
  platform().request("/api/v1/access/release", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });

/** A paid purchase's steps on the service, without the money path: hold the robot, then open it. */
async function buy(payer: string, host: string): Promise<string> {
  const held = await access().reserve(payer, platform().platform.robots.find(host), randomUUID());
  const bought = (await access().activate(held, null)) ?? expect.unreachable();
  return bought.session.token ?? expect.unreachable();
}

/**
 * Makes the next `AccessStore.activeForToken` wait after reading the database, until `resume`: a
 * lookup that read a live session and has yet to cache it.
 */
function holdNextRead() {
  let loaded = () => {};
  const read = new Promise<void>((resolve) => {
    loaded = resolve;
  });
  let resume = () => {};
  const resumed = new Promise<void>((resolve) => {
    resume = resolve;
  });
  const original = AccessStore.prototype.activeForToken;
  vi.spyOn(AccessStore.prototype, "activeForToken").mockImplementationOnce(async function (
    this: AccessStore,
    ...args: Parameters<AccessStore["activeForToken"]>
  ) {
    const found = await original.apply(this, args);
    loaded();
    await resumed;
    return found;
  });
  return { read, resume };
}

describe("paid mode: a session's token stops driving with the answer that ends it", () => {
  it("a wallet buying another robot: its previous token is refused at once, though a command just cached it", async () => {
    t = await paidPlatform();
    const buyer = clientFor(1);
    const first = (await buyer.buy(ROBOT)).session.token ?? expect.unreachable();
    expect((await motor(first)).status).toBe(200);

    const second = (await buyer.buy(OTHER_ROBOT)).session.token ?? expect.unreachable();
    const stale = await motor(first);
    expect(stale.status).toBe(401);
    expect(await stale.json()).toEqual({ detail: "Session token is unknown or its session has ended." });
    expect((await motor(second)).status).toBe(200);
    expect(platform().sims[1]?.commands().at(-1)?.command).toBe("forward");
  });

  it("a command whose session read raced the release cannot cache the session past it", async () => {
    t = await paidPlatform();
    const token = (await clientFor(2).buy(ROBOT)).session.token ?? expect.unreachable();
    // The racing command's read finds the session live, then waits while the release commits and is
    // answered; only then does it go on to cache what it read.
    const { read, resume } = holdNextRead();
    const racing = motor(token);
    await read;
    expect((await release(token)).status).toBe(200);
    resume();
    await racing;
    expect((await motor(token)).status).toBe(401);
  });

  it("a command that read its session before the release answered does not move the robot after it", async () => {
    t = await paidPlatform();
    const token = (await clientFor(5).buy(ROBOT)).session.token ?? expect.unreachable();
    const [sim] = platform().sims;
    // Its read finds the session live, then waits while the release commits and is answered.
    const { read, resume } = holdNextRead();
    const racing = motor(token);
    await read;
    expect((await release(token)).status).toBe(200);
    resume();
    const late = await racing;
    expect(late.status).toBe(409);
    expect(await late.json()).toEqual({
      detail: "This session has ended (released, expired or replaced); buy a new one to drive.",
    });
    expect(sim?.commands().at(-1)?.command).toBe("stop");
    expect(sim?.moving()).toBeNull();
  });
});

// The same guarantees one level down, through the steps of a paid purchase called on the service of a
// free-mode platform: these hold whatever state the money path in front of them is in.
describe("AccessService: an ended or replaced session's token opens nothing from then on", () => {
  it("the wallet's next purchase replaced it, though a lookup had just cached it", async () => {
    t = await startTestPlatform();
    const first = await buy(account(1).address, ROBOT);
    expect(await access().forToken(first)).toBeDefined();
    const second = await buy(account(1).address, OTHER_ROBOT);
    expect(await access().forToken(first)).toBeUndefined();
    expect((await access().forToken(second))?.robotId).toBe(OTHER_ROBOT);
  });

  it("it was released, though lookups had just cached it", async () => {
    t = await startTestPlatform();
    const payer = account(2).address;
    const token = await buy(payer, ROBOT);
    const session = (await access().forToken(token)) ?? expect.unreachable();
    expect(await access().forWallet(payer)).toBeDefined();
    await access().release(session);
    expect(await access().forToken(token)).toBeUndefined();
    expect(await access().forWallet(payer)).toBeUndefined();
  });

  it("a lookup that read it just before its release cannot cache it past the release", async () => {
    t = await startTestPlatform();
    const payer = account(3).address;
    const token = await buy(payer, ROBOT);
    // Looked up by wallet, so the token's own entry is still to be filled by the racing lookup.
    const session = (await access().forWallet(payer)) ?? expect.unreachable();
    const { read, resume } = holdNextRead();
    const racing = access().forToken(token);
    await read;
    await access().release(session);
    resume();
    expect(await racing).toBeDefined(); // it read before the release, and answers what it read
    expect(await access().forToken(token)).toBeUndefined();
  });
});

describe("the session cache", () => {
  const live = {
    id: "s",
    wallet: "w",
    tokenHash: "h",
    expiresAt: new Date(Date.now() + 60_000),
  } as unknown as AccessSession;

  it("refuses a fill that read the database before the session's end was written", async () => {
    const cache = new SessionCache(new MemoryKv());
    const readAt = Date.now();
    await cache.forget({ wallet: "w", tokenHash: "h" });
    await cache.set("token:h", live, readAt);
    await cache.set("wallet:w", live, readAt);
    expect(await cache.get("token:h")).toBe("changed");
    expect(await cache.get("wallet:w")).toBe("changed");
  });

  it("never keeps an answer longer than a second after the read it comes from", async () => {
    const cache = new SessionCache(new MemoryKv());
    await cache.set("token:h", live, Date.now() - 1500);
    expect(await cache.get("token:h")).toBeUndefined();
    await cache.set("wallet:w", live, Date.now());
    expect(await cache.get("wallet:w")).toEqual({ session: expect.objectContaining({ id: "s" }) });
  });
});

// Not REDIS_URL-gated like the suite's other Redis halves: this is about Redis itself, so it runs wherever
// one answers (REDIS_URL's, else the local default), and is skipped, saying why, only where none does.
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisAbsent = await whyNoRedis(REDIS_URL);

describe.skipIf(redisAbsent)(redisAbsent ?? "Redis cut right after a session commits", () => {
  /** A platform whose Redis is reached through a relay that `cut()` drops. */
  async function behindRelay(start: (env: Record<string, string>) => Promise<TestPlatform>) {
    const redis = new URL(REDIS_URL);
    const relay = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    proxy = relay;
    t = await start({
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      REDIS_PREFIX: `robo402-test-${randomUUID()}:`,
    });
    return relay;
  }

  /** Cuts Redis as soon as the store's `method` has committed its write. */
  function cutAfter(relay: TcpProxy, method: "activate" | "rotateToken") {
    const store = AccessStore.prototype as unknown as Record<typeof method, (...args: unknown[]) => unknown>;
    const original = store[method];
    const seen = { cut: false };
    vi.spyOn(store, method).mockImplementationOnce(async function (this: AccessStore, ...args: unknown[]) {
      const result = await original.apply(this, args);
      await relay.cut();
      seen.cut = true;
      return result;
    });
    return seen;
  }

  it("a paid purchase still answers 200 with its token, and the token drives once Redis is back", async () => {
    const relay = await behindRelay((env) => paidPlatform(env));
    const cut = cutAfter(relay, "activate");
    const purchase = await clientFor(3).buy(ROBOT);
    expect(cut.cut).toBe(true);
    expect(purchase.status).toBe("success");
    const token = purchase.session.token ?? expect.unreachable();

    await relay.restore();
    await expect.poll(async () => (await motor(token)).status, { timeout: 15_000 }).toBe(200);
    expect(platform().sims[0]?.commands().at(-1)?.command).toBe("forward");
  });

  it("AccessService: activate and reissue answer their token; it opens the session once Redis is back", async () => {
    const relay = await behindRelay((env) => startTestPlatform({ env }));
    const payer = account(4).address;
    const held = await access().reserve(payer, platform().platform.robots.find(ROBOT), randomUUID());
    const activated = cutAfter(relay, "activate");
    const bought = await access().activate(held, null);
    expect(activated.cut).toBe(true);
    expect(bought?.session.token).toEqual(expect.any(String));

    await relay.restore();
    const reissued = cutAfter(relay, "rotateToken");
    const again = await access().reissue(held.id);
    expect(reissued.cut).toBe(true);
    const token = again?.session.token ?? expect.unreachable();

    await relay.restore();
    await expect.poll(async () => (await access().forToken(token))?.id, { timeout: 15_000 }).toBe(held.id);
  });
});

/** Undefined when a Redis answers at `url`; else why the Redis tests are skipped. */
async function whyNoRedis(url: string): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `needs a Redis: none answers at ${url} (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}
