import { createServer } from "node:net";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { unavailableDetail } from "../src/http/unavailable.ts";

// Real clients failing for real: a port nobody listens on stands in for PostgreSQL or Redis being down.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("unavailableDetail", () => {
  it("a refused connection is a 503; PostgreSQL's shutdown codes name the database", async () => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x`,
    });
    const error = await client.connect().catch((e: unknown) => e);
    expect(unavailableDetail(error)).toBe(
      "A service this server depends on is unreachable right now; try again in a few seconds.",
    );
    expect(unavailableDetail(new Error("x", { cause: { code: "57P01" } }))).toBe(
      "The database is unavailable right now; try again in a few seconds.",
    );
  });

  it("names Redis when a command finds no connection", async () => {
    const redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    const error = await redis.get("key").catch((e: unknown) => e);
    expect(unavailableDetail(error)).toBe(
      "The session store (Redis) is unavailable right now; try again in a few seconds.",
    );
    redis.disconnect();
  });

  it("leaves every other error alone: those stay 500s, bugs to fix", () => {
    expect(unavailableDetail(new TypeError("cannot read properties of undefined"))).toBeUndefined();
    expect(unavailableDetail(new Error("x", { cause: { code: "23505" } }))).toBeUndefined();
    expect(unavailableDetail(undefined)).toBeUndefined();
  });
});
