import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { CallQuoteStatus } from "../src/db/schema.ts";
import { errorHandler } from "../src/http/errors.ts";
import { openPubSub, type PubSub } from "../src/kv/index.ts";
import { SessionEvents } from "../src/realtime/events.ts";
import { sessionSocketRoutes } from "../src/realtime/routes.ts";
import { eventually } from "./helpers.ts";
import { type Listener, listen } from "./listen.ts";

// The two-instance test runs only with REDIS_URL set (CI sets it); without it it is reported skipped.
const REDIS_URL = process.env.REDIS_URL;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The payment sessions' stored statuses, standing in for the database the lead's service reads. */
class Sessions {
  readonly statuses = new Map<string, CallQuoteStatus>();
  /** Ids whose status a socket has read: by then it is subscribed to their changes. */
  readonly asked: string[] = [];

  add(status: CallQuoteStatus): string {
    const id = randomUUID();
    this.statuses.set(id, status);
    return id;
  }

  current = async (id: string) => {
    this.asked.push(id);
    return this.statuses.get(id);
  };
}

async function bus(url: string | undefined, prefix: string): Promise<PubSub> {
  const pubsub = await openPubSub(url, prefix);
  closers.push(() => pubsub.close());
  return pubsub;
}

/** A real listening server with the session socket route, as the platform mounts it. */
async function server(events: SessionEvents, sessions: Sessions): Promise<Listener> {
  const app = new Hono();
  app.onError(errorHandler(logger));
  app.route("/", sessionSocketRoutes(events, sessions.current, logger));
  const listener = await listen(app.fetch);
  closers.push(() => listener.close());
  return listener;
}

/** A real `ws` client: what it received (parsed) and how it was closed. */
function connect(base: Listener, sessionId: string) {
  const socket = new WebSocket(`${base.url.replace("http:", "ws:")}/ws/session/${sessionId}`);
  closers.push(async () => socket.terminate());
  const messages: unknown[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { socket, messages, closed, opened };
}

async function setup() {
  const sessions = new Sessions();
  const events = new SessionEvents(await bus(undefined, ""), logger);
  return { sessions, events, api: await server(events, sessions) };
}

describe("GET /ws/session/{session_id}", () => {
  it("tells the client each change the moment it is published, and closes after completed", async () => {
    const { sessions, events, api } = await setup();
    const id = sessions.add("pending");
    const client = connect(api, id);
    await client.opened;
    expect(await eventually(() => sessions.asked.includes(id))).toBe(true);
    await events.publish(id, "paid");
    expect(await eventually(() => client.messages.length === 1)).toBe(true);
    expect(client.messages).toEqual([{ status: "paid" }]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    await events.publish(id, "completed");
    expect(await client.closed).toEqual({ code: 1000, reason: "Session completed" });
    expect(client.messages).toEqual([{ status: "paid" }, { status: "completed" }]);
  });

  it("sends a status already past pending on connect", async () => {
    const { sessions, api } = await setup();
    const client = connect(api, sessions.add("paid"));
    expect(await eventually(() => client.messages.length === 1)).toBe(true);
    expect(client.messages).toEqual([{ status: "paid" }]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("sends expired, then closes", async () => {
    const { sessions, events, api } = await setup();
    const id = sessions.add("pending");
    const client = connect(api, id);
    expect(await eventually(() => sessions.asked.includes(id))).toBe(true);
    await events.publish(id, "expired");
    expect(await client.closed).toEqual({ code: 1000, reason: "Session expired" });
    expect(client.messages).toEqual([{ status: "expired" }]);
  });

  it("closes with 4404 for an unknown or malformed session id", async () => {
    const { api } = await setup();
    expect(await connect(api, randomUUID()).closed).toEqual({
      code: 4404,
      reason: "No such payment session",
    });
    expect(await connect(api, "not-a-session").closed).toEqual({
      code: 4404,
      reason: "Malformed session id: expected a UUID",
    });
  });

  it("ignores what the client says, but closes on binary (1003) or oversized (1009) messages", async () => {
    const { sessions, events, api } = await setup();
    const id = sessions.add("pending");
    const chatty = connect(api, id);
    await chatty.opened;
    chatty.socket.send("hello?");
    expect(await eventually(() => sessions.asked.includes(id))).toBe(true);
    await events.publish(id, "paid");
    expect(await eventually(() => chatty.messages.length === 1)).toBe(true);
    expect(chatty.messages).toEqual([{ status: "paid" }]);
    chatty.socket.send(Buffer.from([1, 2, 3]));
    expect((await chatty.closed).code).toBe(1003);

    const huge = connect(api, sessions.add("pending"));
    await huge.opened;
    huge.socket.send("x".repeat(100_000));
    expect((await huge.closed).code).toBe(1009);
  });

  it("answers a plain HTTP request with 426 and how to connect", async () => {
    const { sessions, api } = await setup();
    const response = await fetch(`${api.url}/ws/session/${sessions.add("pending")}`);
    expect(response.status).toBe(426);
    expect(await response.json()).toEqual({
      detail: "This is a WebSocket endpoint: connect with a WebSocket client.",
    });
  });
});

describe.skipIf(!REDIS_URL)("session events across instances (needs REDIS_URL)", () => {
  it("an event published on one instance reaches a socket held by another; leaving unsubscribes", async () => {
    const prefix = `robo402-test-${randomUUID()}:`;
    const sessions = new Sessions();
    // Two instances: each its own SessionEvents on its own Redis connections, one database between them.
    const holding = new SessionEvents(await bus(REDIS_URL, prefix), logger);
    const paying = new SessionEvents(await bus(REDIS_URL, prefix), logger);
    const api = await server(holding, sessions);
    const id = sessions.add("pending");
    const client = connect(api, id);
    expect(await eventually(() => sessions.asked.includes(id))).toBe(true);

    await paying.publish(id, "paid");
    expect(await eventually(() => client.messages.length === 1)).toBe(true);
    expect(client.messages).toEqual([{ status: "paid" }]);

    const admin = new Redis(REDIS_URL as string);
    closers.push(() => admin.quit());
    const subscribers = async () =>
      ((await admin.pubsub("NUMSUB", `${prefix}session:${id}`)) as [string, number])[1];
    expect(await subscribers()).toBe(1);
    client.socket.close();
    await client.closed;
    expect(await eventually(async () => (await subscribers()) === 0)).toBe(true);
  });
});
