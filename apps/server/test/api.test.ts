import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { type ClientRequest, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { isNull } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { accessSessions } from "../src/db/schema.ts";
import { eventually, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

const ROBOT = "finland-tumbller-01";
const OTHER = "finland-tumbller-02";
const ALICE = "0xA11CE00000000000000000000000000000001234";
const BOB = wallet(0xb0b);

let t: TestPlatform;
beforeEach(async () => {
  t = await startTestPlatform();
});
afterEach(async () => {
  await t.close();
});

const body = (response: Response) => response.json() as Promise<Record<string, unknown>>;

describe("plan endpoints", () => {
  it("GET /health says healthy and whether payment is on", async () => {
    const response = await t.request("/health");
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ status: "healthy", payment_enabled: false });
  });

  it("GET /api/v1/access/config gives duration and no price in free mode", async () => {
    const response = await t.request("/api/v1/access/config");
    expect(await body(response)).toEqual({
      payment_enabled: false,
      session_duration_minutes: 10,
      session_price: null,
      network: null,
      pay_to: null,
    });
  });

  it("POST /api/v1/access/purchase binds the wallet to the robot for the session's duration", async () => {
    const before = Date.now();
    const response = await t.purchase(ALICE, ROBOT);
    expect(response.status).toBe(200);
    const json = await body(response);
    expect(json).toMatchObject({
      status: "success",
      message: `Access granted to '${ROBOT}' for 10 minutes`,
      payment_tx: null,
      session: { active: true, robot_host: ROBOT },
    });
    const session = json.session as { expires_at: string; remaining_seconds: number };
    const expires = Date.parse(session.expires_at);
    expect(expires - before).toBeGreaterThanOrEqual(600_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(600_000 + 5000);
    expect(session.remaining_seconds).toBeGreaterThanOrEqual(598);
    expect(session.remaining_seconds).toBeLessThanOrEqual(600);
  });

  it("robot names and EVM wallets are case-insensitive", async () => {
    expect((await t.purchase(ALICE, ROBOT.toUpperCase())).status).toBe(200);
    const status = await body(await t.request("/api/v1/access/status", { wallet: ALICE.toLowerCase() }));
    expect(status).toMatchObject({ active: true, robot_host: ROBOT });
    const again = await t.purchase(BOB, "Finland-Tumbller-01");
    expect(again.status).toBe(409);
  });

  it("a robot held by another wallet is 409 and the holder keeps it", async () => {
    await t.purchase(ALICE, ROBOT);
    const response = await t.purchase(BOB, ROBOT);
    expect(response.status).toBe(409);
    expect(await body(response)).toEqual({ detail: `Robot '${ROBOT}' is currently in use.` });
    expect(await body(await t.request("/api/v1/access/status", { wallet: ALICE }))).toMatchObject({
      active: true,
    });
    expect(await body(await t.request("/api/v1/access/status", { wallet: BOB }))).toEqual({ active: false });
  });

  it("a refused purchase leaves the buyer's current robot alone", async () => {
    await t.purchase(ALICE, ROBOT);
    await t.purchase(BOB, OTHER);
    expect((await t.purchase(BOB, ROBOT)).status).toBe(409);
    expect(await body(await t.request("/api/v1/access/status", { wallet: BOB }))).toMatchObject({
      active: true,
      robot_host: OTHER,
    });
  });

  it("buying a second robot frees the first and stops it", async () => {
    await t.purchase(ALICE, ROBOT);
    await t.request("/api/v1/robot/motor/forward", { wallet: ALICE });
    expect((await t.purchase(ALICE, OTHER)).status).toBe(200);
    const status = await body(await t.request(`/api/v1/robot/status?robot_host=${ROBOT}`));
    expect(status).toMatchObject({ available: true, locked_by: null });
    const [first] = t.sims;
    expect(await eventually(() => first?.commands().at(-1)?.command === "stop")).toBe(true);
    expect((await t.purchase(BOB, ROBOT)).status).toBe(200);
  });

  it("GET /api/v1/access/status without a wallet is inactive", async () => {
    expect(await body(await t.request("/api/v1/access/status"))).toEqual({ active: false });
  });

  it("POST /api/v1/access/release ends the session, stops the robot and frees it", async () => {
    await t.purchase(ALICE, ROBOT);
    await t.request("/api/v1/robot/motor/forward", { wallet: ALICE });
    const response = await t.request("/api/v1/access/release", { method: "POST", wallet: ALICE });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ status: "released", robot_host: ROBOT });
    const [sim] = t.sims;
    expect(await eventually(() => sim?.commands().at(-1)?.command === "stop")).toBe(true);
    expect(sim?.moving()).toBeNull();
    expect((await t.purchase(BOB, ROBOT)).status).toBe(200);
    const again = await t.request("/api/v1/access/release", { method: "POST", wallet: ALICE });
    expect(again.status).toBe(403);
    expect(await body(again)).toEqual({ detail: "No active session. Purchase access first." });
  });
});

describe("driving", () => {
  it("motor commands move the robot bound to the session", async () => {
    await t.purchase(ALICE, ROBOT);
    const [sim] = t.sims;
    const start = sim?.pose();
    const response = await t.request("/api/v1/robot/motor/forward", { wallet: ALICE });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ status: "ok", command: "forward" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim?.pose().x).toBeGreaterThan((start?.x ?? 0) + 0.03);
    for (const command of ["back", "left", "right", "stop"]) {
      const r = await t.request(`/api/v1/robot/motor/${command}`, { wallet: ALICE });
      expect(await body(r)).toEqual({ status: "ok", command });
    }
    expect(sim?.commands().map((entry) => entry.command)).toEqual([
      "forward",
      "back",
      "left",
      "right",
      "stop",
    ]);
  });

  it("control without a wallet is 401, without a session 403", async () => {
    const anonymous = await t.request("/api/v1/robot/motor/forward");
    expect(anonymous.status).toBe(401);
    expect(await body(anonymous)).toEqual({
      detail: "Wallet address required. Include X-Wallet-Address header.",
    });
    const stranger = await t.request("/api/v1/robot/motor/forward", { wallet: BOB });
    expect(stranger.status).toBe(403);
    expect(await body(stranger)).toEqual({ detail: "No active session. Purchase access first." });
    expect((await t.request("/api/v1/robot/camera/frame", { wallet: BOB })).status).toBe(403);
    expect(t.sims.every((sim) => sim.commands().length === 0)).toBe(true);
  });

  it("an unknown motor command is 404 naming the valid ones", async () => {
    await t.purchase(ALICE, ROBOT);
    const response = await t.request("/api/v1/robot/motor/jump", { wallet: ALICE });
    expect(response.status).toBe(404);
    expect(await body(response)).toEqual({
      detail: "Unknown motor command 'jump'. Use one of: forward, back, left, right, stop.",
    });
  });

  it("an offline motor board is 503", async () => {
    await t.purchase(ALICE, ROBOT);
    t.sims[0]?.setFaults("motor", { offline: true });
    const response = await t.request("/api/v1/robot/motor/forward", { wallet: ALICE });
    expect(response.status).toBe(503);
    expect((await body(response)).detail).toMatch(/^Robot motor offline: unreachable .+; retrying in \d+ s$/);
  });

  it("a motor board answering 5xx is 503", async () => {
    await t.purchase(ALICE, ROBOT);
    t.sims[0]?.setFaults("motor", { errorStatus: 500 });
    expect((await t.request("/api/v1/robot/motor/left", { wallet: ALICE })).status).toBe(503);
  });

  it("buying an offline robot is 503 and locks nothing", async () => {
    t.sims[0]?.setFaults("motor", { offline: true });
    const response = await t.purchase(ALICE, ROBOT);
    expect(response.status).toBe(503);
    expect(await body(response)).toEqual({ detail: `Robot '${ROBOT}' is offline.` });
    expect(await body(await t.request("/api/v1/access/status", { wallet: ALICE }))).toEqual({
      active: false,
    });
  });
});

describe("camera", () => {
  it("GET /api/v1/robot/camera/frame answers the robot's JPEG", async () => {
    await t.purchase(ALICE, ROBOT);
    const response = await t.request("/api/v1/robot/camera/frame", { wallet: ALICE });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  });

  it("the picture changes when the robot turns", async () => {
    await t.purchase(ALICE, ROBOT);
    const frame = async () =>
      Buffer.from(await (await t.request("/api/v1/robot/camera/frame", { wallet: ALICE })).arrayBuffer());
    const before = await frame();
    await t.request("/api/v1/robot/motor/left", { wallet: ALICE });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await frame()).equals(before)).toBe(false);
  });

  it("many viewers share one poller that never asks faster than the firmware allows", async () => {
    await t.purchase(ALICE, ROBOT);
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => t.request("/api/v1/robot/camera/frame", { wallet: ALICE })),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const feed = t.platform.robots.camera(t.platform.robots.find(ROBOT));
    const elapsed = Date.now() - started;
    // One request per interval at most, however many viewers asked.
    const { CAMERA_INTERVAL_MS } = loadConfig({});
    expect(feed.requests).toBeLessThanOrEqual(Math.ceil(elapsed / CAMERA_INTERVAL_MS) + 1);
  });

  it("a camera that is briefly busy (another client took a frame) is not an outage: every viewer gets a frame", async () => {
    await t.purchase(ALICE, ROBOT);
    const camera = t.sims[0]?.cameraUrl ?? expect.unreachable();
    // Someone else on the camera board (a second app, the snapshot robot), so the platform's poller is
    // sometimes told 503 "asked within 100 ms": it must ask again, not fail its viewers.
    let competing = true;
    let busied = 0;
    const competitor = (async () => {
      while (competing) {
        const answer = await fetch(`${camera}/getImage`);
        await answer.arrayBuffer();
        if (answer.status === 200) busied++;
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
    })();
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const response = await t.request("/api/v1/robot/camera/frame", { wallet: ALICE });
        await response.arrayBuffer();
        statuses.push(response.status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      competing = false;
      await competitor;
    }
    expect(busied).toBeGreaterThan(0);
    expect(statuses).toEqual(Array(15).fill(200));
  });

  it("an offline camera is 503", async () => {
    await t.purchase(ALICE, ROBOT);
    t.sims[0]?.setFaults("camera", { offline: true });
    const response = await t.request("/api/v1/robot/camera/frame", { wallet: ALICE });
    expect(response.status).toBe(503);
    expect((await body(response)).detail).toMatch(
      /^Robot camera offline: unreachable .+; retrying in \d+ s$/,
    );
  });

  it("GET /api/v1/robot/camera/stream sends JPEG parts as multipart MJPEG", async () => {
    await t.purchase(ALICE, ROBOT);
    const controller = new AbortController();
    const response = await t.request("/api/v1/robot/camera/stream", {
      wallet: ALICE,
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=robo402-frame");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = Buffer.alloc(0);
    while ((received.toString("latin1").match(/--robo402-frame/g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      received = Buffer.concat([received, value]);
    }
    const text = received.toString("latin1");
    expect(text.startsWith("--robo402-frame\r\nContent-Type: image/jpeg\r\nContent-Length: ")).toBe(true);
    expect(text).toContain("\r\n\r\n\xff\xd8");
    await reader.cancel();
  });

  it("an open stream ends when its session ends elsewhere (another instance released it)", async () => {
    await t.purchase(ALICE, ROBOT);
    const response = await t.request("/api/v1/robot/camera/stream", { wallet: ALICE });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    // What another instance's release leaves in the shared database, without this instance hearing of it.
    await t.platform.database.db
      .update(accessSessions)
      .set({ endedAt: new Date(), endReason: "released" })
      .where(isNull(accessSessions.endedAt));
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });
});

describe("robot status", () => {
  it("reports motor and camera, availability and the masked holder", async () => {
    const free = await body(await t.request(`/api/v1/robot/status?robot_host=${ROBOT}`));
    expect(free).toMatchObject({
      robot_host: ROBOT,
      motor_online: true,
      motor_ip: "127.0.0.1",
      motor_mdns: ROBOT,
      camera_online: true,
      camera_ip: "127.0.0.1",
      camera_mdns: null,
      available: true,
      locked_by: null,
    });
    await t.purchase(ALICE, ROBOT);
    const held = await body(await t.request(`/api/v1/robot/status?robot_host=${ROBOT}`));
    expect(held).toMatchObject({ available: false, locked_by: "0xa11c...1234" });
  });

  it("reports an offline robot as offline", async () => {
    t.sims[1]?.setFaults("motor", { offline: true });
    t.sims[1]?.setFaults("camera", { offline: true });
    const status = await body(await t.request(`/api/v1/robot/status?robot_host=${OTHER}`));
    expect(status).toMatchObject({ motor_online: false, camera_online: false, available: true });
  });

  it("without robot_host is 422 naming the query field", async () => {
    const response = await t.request("/api/v1/robot/status");
    expect(response.status).toBe(422);
    expect(await body(response)).toEqual({
      detail: [{ type: "missing", loc: ["query", "robot_host"], msg: "Field required" }],
    });
  });
});

describe("bad input", () => {
  it("a purchase without robot_host is 422 naming the field", async () => {
    const response = await t.request("/api/v1/access/purchase", {
      method: "POST",
      wallet: ALICE,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(422);
    expect(await body(response)).toEqual({
      detail: [{ type: "missing", loc: ["body", "robot_host"], msg: "Field required" }],
    });
  });

  it("a purchase without X-Wallet-Address is 422 naming the header", async () => {
    const response = await t.request("/api/v1/access/purchase", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ robot_host: ROBOT }),
    });
    expect(response.status).toBe(422);
    const detail = (await body(response)).detail as Array<{ loc: string[] }>;
    expect(detail[0]?.loc).toEqual(["header", "x-wallet-address"]);
  });

  it("a wallet that is not an address is 422 with the reason", async () => {
    const response = await t.purchase("robert'); drop table--", ROBOT);
    expect(response.status).toBe(422);
    const detail = (await body(response)).detail as Array<{ loc: string[]; msg: string }>;
    expect(detail[0]?.msg).toMatch(/wallet address/);
  });

  it("malformed JSON is 400 and says so", async () => {
    const response = await t.request("/api/v1/access/purchase", {
      method: "POST",
      wallet: ALICE,
      headers: { "content-type": "application/json" },
      body: '{"robot_host": ',
    });
    expect(response.status).toBe(400);
    expect(String((await body(response)).detail)).toMatch(/JSON/i);
  });

  it("an oversized body is 413", async () => {
    const response = await t.request("/api/v1/access/purchase", {
      method: "POST",
      wallet: ALICE,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ robot_host: ROBOT, pad: "x".repeat(100_000) }),
    });
    expect(response.status).toBe(413);
    expect(String((await body(response)).detail)).toMatch(/too large/);
  });

  it("an unknown route is a JSON 404", async () => {
    const response = await t.request("/api/v1/nope");
    expect(response.status).toBe(404);
    expect(await body(response)).toEqual({ detail: "Not Found" });
  });
});

describe("robots are a registry (no SSRF)", () => {
  // Every request the platform sends out, whatever its target and whichever client sends it: node:http
  // (the robots' boards) and undici (services, facilitators) each announce theirs on a diagnostics channel.
  const outbound: string[] = [];
  const fromHttp = ({ request }: { request: ClientRequest }) =>
    outbound.push(`${request.protocol}//${request.getHeader("host")}${request.path}`);
  const fromUndici = ({ request }: { request: { origin: string; path: string } }) =>
    outbound.push(`${request.origin}${request.path}`);
  beforeAll(() => {
    subscribe("http.client.request.start", fromHttp as never);
    subscribe("undici:request:create", fromUndici as never);
  });
  afterAll(() => {
    unsubscribe("http.client.request.start", fromHttp as never);
    unsubscribe("undici:request:create", fromUndici as never);
  });

  it.each(["169.254.169.254", "127.0.0.1", "localhost", "internal.example", "finland-tumbller-99"])(
    "%s is 404 and nothing is contacted",
    async (host) => {
      outbound.length = 0;
      const purchase = await t.purchase(ALICE, host);
      expect(purchase.status).toBe(404);
      expect(await body(purchase)).toEqual({ detail: `Robot '${host}' is not registered.` });
      const status = await t.request(`/api/v1/robot/status?robot_host=${encodeURIComponent(host)}`);
      expect(status.status).toBe(404);
      expect(outbound).toEqual([]);
    },
  );

  it("a registered robot is contacted at its registered address", async () => {
    outbound.length = 0;
    await t.purchase(ALICE, ROBOT);
    expect(outbound).toEqual([`${t.sims[0]?.motorUrl}/info`]);
  });
});

describe("firmware variants", () => {
  let server: Server;
  let t2: TestPlatform;
  afterEach(async () => {
    await t2?.close();
    server?.close();
  });

  it("accepts /info answering the plan's mdns_name instead of hostname", async () => {
    server = createServer((req, res) => {
      if (req.url === "/info") res.end(JSON.stringify({ mdns_name: "plan-bot", ip: "10.0.0.7" }));
      else res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    t2 = await startTestPlatform({
      robots: [],
      env: { ROBOTS: JSON.stringify([{ host: "plan-bot", motor_url: `http://127.0.0.1:${port}` }]) },
    });
    const status = await body(await t2.request("/api/v1/robot/status?robot_host=plan-bot"));
    expect(status).toMatchObject({ motor_online: true, motor_mdns: "plan-bot", motor_ip: "10.0.0.7" });
  });
});

describe("robot list", () => {
  it("GET /api/v1/robots lists every registered robot and who holds it", async () => {
    await t.purchase(ALICE, ROBOT);
    const response = await t.request("/api/v1/robots");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { robot_host: ROBOT, available: false, locked_by: "0xa11c...1234", free_at: expect.any(String) },
      { robot_host: OTHER, available: true, locked_by: null, free_at: null },
    ]);
  });

  it("shows a robot free the moment it is released, though every holder was read a moment before", async () => {
    await t.purchase(ALICE, ROBOT);
    // Past the purchase's mark in the session cache: the list is answered from one read of every holder.
    await sleep(2000);
    const held = (await (await t.request("/api/v1/robots")).json()) as Array<Record<string, unknown>>;
    expect(held.find((robot) => robot.robot_host === ROBOT)).toMatchObject({ available: false });
    expect((await t.request("/api/v1/access/release", { method: "POST", wallet: ALICE })).status).toBe(200);
    const freed = (await (await t.request("/api/v1/robots")).json()) as Array<Record<string, unknown>>;
    expect(freed.find((robot) => robot.robot_host === ROBOT)).toEqual({
      robot_host: ROBOT,
      available: true,
      locked_by: null,
      free_at: null,
    });
  });
});
