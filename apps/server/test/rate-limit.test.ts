import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { errorHandler, HttpError } from "../src/http/errors.ts";
import { clientIp, rateLimit } from "../src/http/rate-limit.ts";
import { type Kv, openKv } from "../src/kv/index.ts";
import { type Listener, listen } from "./listen.ts";

// The Redis test runs only with REDIS_URL set (CI sets it); without it it is reported skipped.
const REDIS_URL = process.env.REDIS_URL;
const LIMIT = 3;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A real server whose /api/execute/* is limited to LIMIT calls a minute per client address. */
async function server(options: { kv?: Kv; trustProxy?: boolean } = {}): Promise<Listener> {
  const kv = options.kv ?? (await openKv(undefined, ""));
  if (!options.kv) closers.push(() => kv.close());
  const app = new Hono();
  app.onError(errorHandler(pino({ level: "silent" })));
  app.use(
    "/api/execute/*",
    rateLimit({
      kv,
      limit: LIMIT,
      windowMs: 60_000,
      scope: "/api/execute",
      key: (c) => clientIp(c, { trustProxy: options.trustProxy ?? false }),
    }),
  );
  app.post("/api/execute/missing", () => {
    throw new HttpError(404, "No such robot");
  });
  app.post("/api/execute/:robot", (c) => c.json({ result: "done" }));
  const listener = await listen(app.fetch);
  closers.push(() => listener.close());
  return listener;
}

const execute = (base: Listener, headers: Record<string, string> = {}, robot = "r1") =>
  fetch(`${base.url}/api/execute/${robot}`, { method: "POST", headers });

describe("rate limit", () => {
  it("answers 429 with Retry-After past the limit, and RateLimit headers on every answer", async () => {
    const api = await server();
    for (const remaining of [2, 1, 0]) {
      const ok = await execute(api);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ result: "done" });
      expect(ok.headers.get("ratelimit-limit")).toBe("3");
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(remaining));
      expect(Number(ok.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);
      expect(Number(ok.headers.get("ratelimit-reset"))).toBeLessThanOrEqual(60);
    }
    const refused = await execute(api);
    expect(refused.status).toBe(429);
    const { detail } = (await refused.json()) as { detail: string };
    const match = /^Too many requests: at most 3 per minute on \/api\/execute; retry in (\d+) s\.$/.exec(
      detail,
    );
    expect(match, detail).not.toBeNull();
    expect(refused.headers.get("retry-after")).toBe(match?.[1]);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
  });

  it("counts refusals by the handler too, and marks them with the headers", async () => {
    const api = await server();
    const missing = await execute(api, {}, "missing");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "No such robot" });
    expect(missing.headers.get("ratelimit-remaining")).toBe("2");
  });

  it("ignores X-Forwarded-For unless told the proxy is trusted", async () => {
    const direct = await server();
    for (let i = 1; i <= LIMIT; i++) await execute(direct, { "x-forwarded-for": `10.0.0.${i}` });
    expect((await execute(direct, { "x-forwarded-for": "10.0.0.99" })).status).toBe(429);

    const proxied = await server({ trustProxy: true });
    // The last entry is what the proxy saw; the ones before it are the client's to write.
    for (let i = 1; i <= LIMIT; i++) await execute(proxied, { "x-forwarded-for": `6.6.6.${i}, 10.0.0.1` });
    expect((await execute(proxied, { "x-forwarded-for": "6.6.6.99, 10.0.0.1" })).status).toBe(429);
    expect((await execute(proxied, { "x-forwarded-for": "10.0.0.2" })).status).toBe(200);
  });

  it.skipIf(!REDIS_URL)("holds across two servers sharing Redis (needs REDIS_URL)", async () => {
    const prefix = `robo402-test-${randomUUID()}:`;
    const kvs = [await openKv(REDIS_URL, prefix), await openKv(REDIS_URL, prefix)];
    closers.push(async () => {
      await Promise.all(kvs.map((kv) => kv.close()));
    });
    const [one, two] = [await server({ kv: kvs[0] }), await server({ kv: kvs[1] })];
    expect((await execute(one)).status).toBe(200);
    expect((await execute(two)).status).toBe(200);
    expect((await execute(one)).status).toBe(200);
    const refused = await execute(two);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
  });
});
