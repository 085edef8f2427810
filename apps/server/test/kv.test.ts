import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { type Kv, openKv, openPubSub, type PubSub } from "../src/kv/index.ts";
import { eventually, sleep } from "./helpers.ts";

// The Redis half runs only with REDIS_URL set (CI sets it); without it those tests are reported skipped.
const REDIS_URL = process.env.REDIS_URL;
const ENGINES = [
  { engine: "memory", url: undefined },
  { engine: "redis", url: REDIS_URL },
] as const;

const opened: Array<Kv | PubSub | Redis> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((it) => (it instanceof Redis ? it.quit() : it.close())));
});
const kv = async (url: string | undefined, prefix: string) => {
  const store = await openKv(url, prefix);
  opened.push(store);
  return store;
};
const pubsub = async (url: string | undefined, prefix: string) => {
  const bus = await openPubSub(url, prefix);
  opened.push(bus);
  return bus;
};
const testPrefix = () => `robo402-test-${randomUUID()}:`;

/** A subscription's messages, in order. */
async function listen(bus: PubSub, channel: string) {
  const messages: string[] = [];
  const unsubscribe = await bus.subscribe(channel, (message) => messages.push(message));
  return { messages, unsubscribe };
}

describe.each(ENGINES)("$engine", ({ engine, url }) => {
  describe.skipIf(engine === "redis" && !url)(engine === "redis" && !url ? "needs REDIS_URL" : "", () => {
    it("counts hits per key within a window and says when the window resets", async () => {
      const store = await kv(url, testPrefix());
      expect(await store.hit("a", 60_000)).toMatchObject({ count: 1 });
      expect(await store.hit("a", 60_000)).toMatchObject({ count: 2 });
      const third = await store.hit("a", 60_000);
      expect(third.count).toBe(3);
      expect(third.resetMs).toBeGreaterThan(0);
      expect(third.resetMs).toBeLessThanOrEqual(60_000);
      expect(await store.hit("b", 60_000)).toMatchObject({ count: 1 });
    });

    it("starts a new window once the old one has lapsed", async () => {
      const store = await kv(url, testPrefix());
      await store.hit("a", 50);
      expect(await store.hit("a", 50)).toMatchObject({ count: 2 });
      await sleep(120);
      expect(await store.hit("a", 50)).toMatchObject({ count: 1 });
    });

    it("gives concurrent hits distinct counts", async () => {
      const prefix = testPrefix();
      // Two stores on one prefix are two server processes for Redis; memory has only the one.
      const stores =
        engine === "redis" ? [await kv(url, prefix), await kv(url, prefix)] : [await kv(url, prefix)];
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => stores[i % stores.length]?.hit("shared", 60_000)),
      );
      expect(results.map((r) => r?.count).sort((a = 0, b = 0) => a - b)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });

    it("sets a value only where none is, until that one lapses", async () => {
      const store = await kv(url, testPrefix());
      expect(await store.setIfAbsent("k", "first", 80)).toBe(true);
      expect(await store.setIfAbsent("k", "second", 80)).toBe(false);
      expect(await store.get("k")).toBe("first");
      await sleep(150);
      expect(await store.get("k")).toBeNull();
      expect(await store.setIfAbsent("k", "third", 60_000)).toBe(true);
      expect(await store.get("k")).toBe("third");
    });

    it("sets a value unless a fence stands, until the fence lapses", async () => {
      const store = await kv(url, testPrefix());
      expect(await store.setUnless("k", "first", 60_000, "fence")).toBe(true);
      expect(await store.getMany(["k", "fence"])).toEqual(["first", null]);
      await store.set("fence", "1", 80);
      expect(await store.setUnless("k", "second", 60_000, "fence")).toBe(false);
      expect(await store.get("k")).toBe("first");
      await sleep(150);
      expect(await store.setUnless("k", "third", 80, "fence")).toBe(true);
      expect(await store.get("k")).toBe("third");
      await sleep(150);
      expect(await store.get("k")).toBeNull();
    });

    it("delivers a message to the channel's listeners only, until they unsubscribe", async () => {
      const bus = await pubsub(url, testPrefix());
      const a = await listen(bus, "a");
      const a2 = await listen(bus, "a");
      const b = await listen(bus, "b");
      await bus.publish("a", "one");
      expect(await eventually(() => a.messages.length === 1)).toBe(true);
      await a.unsubscribe();
      await bus.publish("a", "two");
      // One connection delivers in order: once "done" is in, anything published before it is too.
      await bus.publish("b", "done");
      expect(await eventually(() => b.messages.length === 1)).toBe(true);
      expect(a.messages).toEqual(["one"]);
      expect(a2.messages).toEqual(["one", "two"]);
      expect(b.messages).toEqual(["done"]);
    });
  });
});

describe.skipIf(!REDIS_URL)("redis across processes (needs REDIS_URL)", () => {
  const url = REDIS_URL as string;

  it("two servers' PubSubs hear each other, and only on their own prefix", async () => {
    const prefix = testPrefix();
    const [one, two] = [await pubsub(url, prefix), await pubsub(url, prefix)];
    const other = await pubsub(url, testPrefix());
    const onOne = await listen(one, "events");
    const onTwo = await listen(two, "events");
    const onOther = await listen(other, "events");
    await two.publish("events", "from two");
    await one.publish("events", "from one");
    expect(await eventually(() => onOne.messages.length === 2 && onTwo.messages.length === 2)).toBe(true);
    expect(onOne.messages.sort()).toEqual(["from one", "from two"]);
    expect(onTwo.messages.sort()).toEqual(["from one", "from two"]);
    await other.publish("events", "own prefix");
    expect(await eventually(() => onOther.messages.length === 1)).toBe(true);
    expect(onOther.messages).toEqual(["own prefix"]);
  });

  it("subscribes again after its connection to Redis is cut", async () => {
    const prefix = testPrefix();
    const [listener, publisher] = [await pubsub(url, prefix), await pubsub(url, prefix)];
    const heard = await listen(listener, "events");
    const admin = new Redis(url);
    opened.push(admin);
    // Of the connections named after this prefix, only the listener's subscriber is in pub/sub mode.
    const subscribers = ((await admin.client("LIST", "TYPE", "PUBSUB")) as string)
      .split("\n")
      .filter((line) => line.includes(` name=${prefix}pubsub `));
    expect(subscribers).toHaveLength(1);
    const id = /\bid=(\d+)/.exec(subscribers[0] ?? "")?.[1];
    expect(await admin.client("KILL", "ID", id as string)).toBe(1);
    // Messages published while it is away are lost (pub/sub is at most once): publish until one lands.
    const landed = await eventually(async () => {
      await publisher.publish("events", "after reconnect");
      return heard.messages.length > 0;
    });
    expect(landed).toBe(true);
    expect(heard.messages[0]).toBe("after reconnect");
  });
});
