import { type AddressInfo, connect, createServer } from "node:net";
import { serve } from "@hono/node-server";
import { LINK_SILENCE_MS } from "@robo402/protocol";
import { type Bridge, type BridgeEvent, startBridge, Tumbller } from "@robo402/robot-link";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { Hono } from "hono";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorHandler } from "../src/http/errors.ts";
import { MemoryKv } from "../src/kv/memory.ts";
import { MemoryPubSub } from "../src/kv/pubsub-memory.ts";
import { websocketOption } from "../src/realtime/server.ts";
import { linkDriver } from "../src/robots/link/driver.ts";
import { LinkHub } from "../src/robots/link/hub.ts";
import { linkRoutes } from "../src/robots/link/routes.ts";
import { countingProxy } from "./counting-proxy.ts";
import { eventually } from "./helpers.ts";

// The bridge against the platform's link endpoint, with robot-sim's boards over HTTP. The robot's own
// motions run for a minute here, so only a stop (the bridge's or the platform's) can end one.
const HOST = "finland-tumbller-07";
const TOKEN = "r4l_the-right-token";
const DEADMAN_MS = 1500;

describe("the robot link between platform and bridge", () => {
  let sim: RobotSim;
  let hub: LinkHub;
  let websocket: ReturnType<typeof websocketOption>;
  let server: ReturnType<typeof serve>;
  let url: string;
  const bridges: Bridge[] = [];
  const refused: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    sim = await startRobotSim({
      name: HOST,
      motionDurationsMs: { forward: 60_000, back: 60_000, left: 60_000, right: 60_000 },
    });
    const logger = pino({ level: "warn" }, { write: (line: string) => refused.push(JSON.parse(line)) });
    hub = new LinkHub(new MemoryKv(), new MemoryPubSub(), "instance-a", DEADMAN_MS, logger);
    await hub.start();
    const app = new Hono();
    app.onError(errorHandler(logger));
    const routes = linkRoutes(
      hub,
      { robotFor: async (token) => (token === TOKEN ? { host: HOST, suspended: false } : undefined) },
      async (_c, next) => next(),
      () => "127.0.0.1",
      logger,
    );
    app.route("/", routes);
    websocket = websocketOption();
    server = await new Promise((resolve) => {
      const started = serve({ fetch: app.fetch, websocket, hostname: "127.0.0.1", port: 0 }, () =>
        resolve(started),
      );
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
    await eventually(() => !hub.linkedHere(HOST));
    sim.reset();
  });
  afterAll(async () => {
    await hub?.close();
    for (const socket of websocket?.server.clients ?? []) socket.terminate();
    await new Promise((resolve) => server?.close(resolve));
    await sim?.close();
  });

  function bridge(token = TOKEN, events: BridgeEvent[] = []): Bridge {
    const started = startBridge({
      platform: url,
      token,
      boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
      onEvent: (event) => events.push(event),
      backoffMs: 50,
      maxBackoffMs: 200,
    });
    bridges.push(started);
    return started;
  }
  const driver = () => linkDriver(HOST, hub, { timeoutMs: 3000, cameraTimeoutMs: 3000 });

  it("drives the robot, reads its /info and brings camera frames, through the bridge", async () => {
    bridge();
    expect(await eventually(() => hub.linkedHere(HOST))).toBe(true);
    await driver().command("forward");
    expect(sim.moving()).toBe("forward");
    expect(await driver().info()).toMatchObject({ name: HOST });
    const jpeg = await driver().frame();
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
  });

  it("a link that drops mid-drive has the bridge stop the robot with no help from the platform, and control resumes when it dials back", async () => {
    const events: BridgeEvent[] = [];
    bridge(TOKEN, events);
    expect(await eventually(() => hub.linkedHere(HOST))).toBe(true);
    await driver().command("forward");
    expect(sim.moving()).toBe("forward");
    // Cut the link from the platform's side: the platform sends nothing more (no stop of its own).
    for (const socket of websocket.server.clients) socket.terminate();
    expect(await eventually(() => sim.moving() === null, DEADMAN_MS)).toBe(true);
    expect(sim.commands().at(-1)?.command).toBe("stop");
    // The board has stopped before its answer reaches the bridge, which then says so.
    expect(await eventually(() => events.some((event) => event.type === "stopped"))).toBe(true);

    expect(await eventually(() => hub.linkedHere(HOST))).toBe(true);
    await driver().command("left");
    expect(sim.moving()).toBe("left");
  });

  it("a link gone silent (half-open: no close ever arrives) stops the robot within the dead-man time and is dialed again", async () => {
    // A proxy that, once cut, forwards nothing either way and closes nothing: a dead Wi-Fi or NAT entry.
    let cut = false;
    const proxy = createServer((inbound) => {
      const outbound = connect(Number(new URL(url).port), "127.0.0.1");
      inbound.on("data", (chunk) => cut || outbound.write(chunk));
      outbound.on("data", (chunk) => cut || inbound.write(chunk));
      for (const end of [inbound, outbound]) end.on("error", () => {});
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const events: BridgeEvent[] = [];
    bridges.push(
      startBridge({
        platform: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        token: TOKEN,
        boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
        onEvent: (event) => events.push(event),
        backoffMs: 50,
        maxBackoffMs: 200,
      }),
    );
    try {
      expect(await eventually(() => hub.linkedHere(HOST))).toBe(true);
      await driver().command("forward");
      expect(sim.moving()).toBe("forward");
      cut = true;
      expect(await eventually(() => sim.moving() === null, DEADMAN_MS + 500)).toBe(true);
      // The bridge calls the silent link dead and dials again (through the proxy, which stays cut).
      expect(
        await eventually(() => events.some((event) => event.type === "disconnected"), LINK_SILENCE_MS + 2000),
      ).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it("a motion the platform never follows up is stopped by the bridge's own dead-man", async () => {
    bridge();
    expect(await eventually(() => hub.linkedHere(HOST))).toBe(true);
    await driver().command("back");
    expect(sim.moving()).toBe("back");
    // No stop comes from the platform here (this hub has no dead-man): the bridge's comes.
    expect(await eventually(() => sim.moving() === null, DEADMAN_MS * 2)).toBe(true);
    expect(hub.linkedHere(HOST)).toBe(true);
  });

  it("refuses a wrong token before the upgrade, logs it, and the bridge gives up rather than dialing forever", async () => {
    const events: BridgeEvent[] = [];
    const wrong = bridge("r4l_a-wrong-token", events);
    expect(await wrong.done).toMatchObject({ code: 401 });
    expect(events.filter((event) => event.type === "disconnected")).toEqual([]);
    expect(refused.some((line) => line.msg === "robot link refused")).toBe(true);
    expect(hub.linkedHere(HOST)).toBe(false);
  });

  it("a second link with the same token replaces the first (4409), which stops dialing", async () => {
    const first = bridge();
    expect(await eventually(() => first.connected)).toBe(true);
    const second = bridge();
    expect(await first.done).toMatchObject({ code: 4409 });
    expect(await eventually(() => second.connected)).toBe(true);
    await driver().command("right");
    expect(sim.moving()).toBe("right");
  });
});

describe("the bridge's firmware client", () => {
  it("asks the camera back to back no sooner than its firmware allows: every frame served", async () => {
    const sim = await startRobotSim({ name: HOST });
    const camera = await countingProxy(sim.cameraUrl);
    try {
      const tumbller = new Tumbller(sim.motorUrl, camera.url);
      const frames = await Promise.all(Array.from({ length: 8 }, () => tumbller.frame()));
      for (const jpeg of frames) expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      // Eight asks, about eight requests. A busy answer (503) is this machine's jitter, asked again; asking
      // before the firmware's 100 ms were up would be refused on every frame, and fail it after 3 retries.
      expect(camera.count("/getImage")).toBeGreaterThanOrEqual(8);
      expect(camera.count("/getImage")).toBeLessThanOrEqual(10);
    } finally {
      await camera.close();
      await sim.close();
    }
  });
});
