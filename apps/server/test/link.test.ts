import { spawn } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { type Bridge, type BridgeEvent, startBridge, Tumbller } from "@robo402/robot-link";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { websocketOption } from "../src/realtime/server.ts";
import { callAs, eventually, signUp, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

// A robot registered by its owner as a link robot, driven through the whole platform while robo402-link
// holds its link to robot-sim's boards over HTTP. The sims' motions last a minute, so only a stop ends one.
const LONG_MOTIONS = { forward: 60_000, back: 60_000, left: 60_000, right: 60_000 };
const DEADMAN_MS = 1500;

interface Served {
  readonly url: string;
  /** Cuts every robot link from the platform's side, as a crash or a dropped network would. */
  cutLinks(): void;
  close(): Promise<void>;
}

async function served(t: TestPlatform): Promise<Served> {
  const websocket = websocketOption();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: t.platform.app.fetch, websocket, hostname: "127.0.0.1", port: 0 }, () =>
      resolve(started),
    );
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutLinks: () => {
      for (const socket of websocket.server.clients) socket.terminate();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of websocket.server.clients) socket.terminate();
        server.close(() => resolve());
      }),
  };
}

/** robo402-link, in this process, linking robot-sim's boards to the platform at `platform` with `token`. */
function linkBridge(
  platform: string,
  token: string | undefined,
  sim: RobotSim,
  onEvent?: (event: BridgeEvent) => void,
): Bridge {
  return startBridge({
    platform,
    token: token ?? expect.unreachable(),
    boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
    backoffMs: 50,
    maxBackoffMs: 200,
    onEvent,
  });
}

async function registerLinkRobot(t: TestPlatform, owner: string, host: string) {
  const response = await callAs(t, "/api/robots", owner, {
    method: "POST",
    body: {
      name: host,
      price: "0.10",
      wallet_address: wallet(99),
      services: ["drive"],
      driver: "link",
      host,
    },
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; device_token?: string; endpoint?: string };
}

describe("a robot on the robot link, through the platform", () => {
  let t: TestPlatform;
  let server: Served;
  let simA: RobotSim;
  let simB: RobotSim;
  let owner: string;
  let robotA: { id: string; device_token?: string };
  let robotB: { id: string; device_token?: string };
  const bridges: Bridge[] = [];
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    t = await startTestPlatform({
      robots: [],
      env: {
        DEADMAN_MS: String(DEADMAN_MS),
        ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
        ADMIN_EMAIL: "admin@robo402.test",
        ADMIN_PASSWORD: "admin-password",
      },
      logs,
    });
    server = await served(t);
    simA = await startRobotSim({ name: "home-tumbller-01", motionDurationsMs: LONG_MOTIONS });
    simB = await startRobotSim({ name: "home-tumbller-02", motionDurationsMs: LONG_MOTIONS });
    owner = await signUp(t, "owner@robo402.test", "robot_owner");
    robotA = await registerLinkRobot(t, owner, "home-tumbller-01");
    robotB = await registerLinkRobot(t, owner, "home-tumbller-02");
  });
  afterAll(async () => {
    await Promise.all(bridges.map((bridge) => bridge.close()));
    await server?.close();
    await t?.close();
    await Promise.all([simA?.close(), simB?.close()]);
  });

  function bridge(token: string | undefined, sim: RobotSim): Bridge {
    const started = linkBridge(server.url, token, sim);
    bridges.push(started);
    return started;
  }
  const drive = (buyer: string, command: string) =>
    t.request(`/api/v1/robot/motor/${command}`, { wallet: buyer });
  const online = async (host: string) =>
    ((await (await t.request(`/api/v1/robot/status?robot_host=${host}`)).json()) as { motor_online: boolean })
      .motor_online;

  it("registering a link robot shows its device token once, and takes no endpoint", async () => {
    expect(robotA.device_token).toMatch(/^r4l_/);
    const again = await callAs(t, `/api/robots/${robotA.id}`, owner);
    expect(await again.json()).not.toHaveProperty("device_token");
    const withEndpoint = await callAs(t, "/api/robots", owner, {
      method: "POST",
      body: {
        name: "x",
        price: "0.10",
        wallet_address: wallet(99),
        services: ["drive"],
        driver: "link",
        host: "home-tumbller-09",
        endpoint: "http://127.0.0.1:9",
      },
    });
    expect(withEndpoint.status).toBe(422);
    expect(((await withEndpoint.json()) as { detail: string }).detail).toMatch(/without endpoint/);
  });

  it("is offline until its bridge dials in; then a buyer drives it, sees its camera, and release stops it", async () => {
    expect(await online("home-tumbller-01")).toBe(false);
    const link = bridge(robotA.device_token, simA);
    expect(await eventually(() => link.connected)).toBe(true);
    expect(await eventually(() => online("home-tumbller-01"))).toBe(true);

    const buyer = wallet(1);
    expect((await t.purchase(buyer, "home-tumbller-01")).status).toBe(200);
    expect((await drive(buyer, "forward")).status).toBe(200);
    expect(simA.moving()).toBe("forward");
    const frame = await t.request("/api/v1/robot/camera/frame", { wallet: buyer });
    expect(frame.status).toBe(200);
    expect(frame.headers.get("content-type")).toBe("image/jpeg");

    const released = await t.request("/api/v1/access/release", { method: "POST", wallet: buyer });
    expect(released.status).toBe(200);
    expect(await eventually(() => simA.moving() === null)).toBe(true);
    expect(simA.commands().at(-1)?.command).toBe("stop");
  });

  it("a robot's token links that robot only: another robot's commands never reach it", async () => {
    const link = bridge(robotB.device_token, simB);
    expect(await eventually(() => link.connected)).toBe(true);
    const buyer = wallet(2);
    expect((await t.purchase(buyer, "home-tumbller-02")).status).toBe(200);
    expect((await drive(buyer, "left")).status).toBe(200);
    expect(simB.moving()).toBe("left");
    expect(simA.commands().some((entry) => entry.command === "left")).toBe(false);
    await t.request("/api/v1/access/release", { method: "POST", wallet: buyer });
  });

  it("killing the link mid-drive stops the robot with no platform help, credits the session the downtime, and control resumes on reconnect", async () => {
    const buyer = wallet(3);
    expect((await t.purchase(buyer, "home-tumbller-01")).status).toBe(200);
    const before = (await (await t.request("/api/v1/access/status", { wallet: buyer })).json()) as {
      expires_at: string;
    };
    expect((await drive(buyer, "forward")).status).toBe(200);
    expect(simA.moving()).toBe("forward");

    server.cutLinks();
    expect(await eventually(() => simA.moving() === null, DEADMAN_MS)).toBe(true);

    // The bridge dials back (within its backoff); the session was paused while the link was down.
    expect(await eventually(async () => (await drive(buyer, "back")).status === 200, 15_000)).toBe(true);
    expect(simA.moving()).toBe("back");
    expect(
      await eventually(async () => {
        const now = (await (await t.request("/api/v1/access/status", { wallet: buyer })).json()) as {
          expires_at: string;
        };
        return Date.parse(now.expires_at) > Date.parse(before.expires_at);
      }, 15_000),
    ).toBe(true);
    await t.request("/api/v1/access/release", { method: "POST", wallet: buyer });
  });

  it("rotating the token closes the link (4401) and the old token is refused, with a reason, while the new one links", async () => {
    const old = robotB.device_token ?? expect.unreachable();
    const rotated = await callAs(t, `/api/robots/${robotB.id}/device-token`, owner, { method: "POST" });
    expect(rotated.status).toBe(200);
    const { device_token: fresh } = (await rotated.json()) as { device_token: string };
    expect(fresh).not.toBe(old);
    const closedBridge = bridges.find((b) => b.connected && b !== bridges[0]);
    expect(await closedBridge?.done).toMatchObject({ code: 4401 });

    const refused = await fetch(`${server.url}/api/v1/link`, {
      headers: { authorization: `Bearer ${old}` },
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/rotated/);
    // Logged with where it came from, and never with the token itself.
    const logged = logs.filter((line) => line.msg === "robot link refused");
    expect(logged.at(-1)).toMatchObject({ reason: "unknown device token", address: expect.any(String) });
    expect(JSON.stringify(logged)).not.toContain(old);

    const link = bridge(fresh, simB);
    expect(await eventually(() => link.connected)).toBe(true);
  });

  it("only the robot's owner (or an admin) rotates its token", async () => {
    const stranger = await signUp(t, "stranger@robo402.test", "robot_owner");
    const refused = await callAs(t, `/api/robots/${robotA.id}/device-token`, stranger, { method: "POST" });
    expect(refused.status).toBe(403);
  });

  it("the owner's list, the robot's page and the admin's list say whether its link is up now", async () => {
    const robot = await registerLinkRobot(t, owner, "home-tumbller-03");
    const loggedIn = await callAs(t, "/api/auth/login", undefined, {
      method: "POST",
      body: { email: "admin@robo402.test", password: "admin-password" },
    });
    const { access_token: admin } = (await loggedIn.json()) as { access_token: string };
    const shown = async () => {
      const [mine, page, all] = await Promise.all([
        callAs(t, "/api/robots?mine=true", owner).then((r) => r.json() as Promise<{ robots: Listed[] }>),
        callAs(t, `/api/robots/${robot.id}`, owner).then((r) => r.json() as Promise<Listed>),
        callAs(t, "/api/admin/robots", admin).then((r) => r.json() as Promise<{ robots: Listed[] }>),
      ]);
      const listed = [mine.robots, [page], all.robots].map(
        (list) => list.find((r) => r.id === robot.id)?.linked,
      );
      // The three agree, or the answer is not one value.
      return new Set(listed).size === 1 ? listed[0] : listed;
    };
    expect(await shown()).toBe(false);

    const link = bridge(robot.device_token, simA);
    expect(await eventually(async () => (await shown()) === true)).toBe(true);
    await link.close();
    expect(await eventually(async () => (await shown()) === false)).toBe(true);
  });
});

interface Listed {
  id: string;
  linked: boolean | null;
}

describe("a link robot whose listing changes under its link", () => {
  /** A platform of its own, with one owner's link robot on robot-sim, its bridge linked. */
  async function linked(host: string, env: Record<string, string> = {}) {
    const t = await startTestPlatform({
      robots: [],
      env: { ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8", LINK_RATE_LIMIT: "1000", ...env },
    });
    const server = await served(t);
    const sim = await startRobotSim({ name: host, motionDurationsMs: LONG_MOTIONS });
    const owner = await signUp(t, `owner-of-${host}@robo402.test`, "robot_owner");
    const robot = await registerLinkRobot(t, owner, host);
    const events: Array<{ type: string; code?: number }> = [];
    const link = linkBridge(server.url, robot.device_token, sim, (event) => events.push(event));
    expect(await eventually(() => link.connected)).toBe(true);
    const close = async () => {
      await link.close();
      await server.close();
      await t.close();
      await sim.close();
    };
    return { t, sim, owner, robot, link, events, close };
  }

  it("deleted: its link closes, the robot stops, and the bridge, refused, gives up", async () => {
    const { t, sim, owner, robot, link, close } = await linked("home-tumbller-07");
    try {
      const buyer = wallet(6);
      expect((await t.purchase(buyer, "home-tumbller-07")).status).toBe(200);
      expect((await t.request("/api/v1/robot/motor/forward", { wallet: buyer })).status).toBe(200);
      expect(sim.moving()).toBe("forward");

      expect((await callAs(t, `/api/robots/${robot.id}`, owner, { method: "DELETE" })).status).toBe(204);
      // Before, the link stayed up: a robot no buyer can see, still dialled in and listening.
      expect(await link.done).toMatchObject({ code: 401 });
      expect(await eventually(() => sim.moving() === null)).toBe(true);
    } finally {
      await close();
    }
  });

  it("suspended: its link closes and is refused until the suspension is lifted, then links again", async () => {
    const { t, robot, link, events, close } = await linked("home-tumbller-08", {
      ADMIN_EMAIL: "admin@robo402.test",
      ADMIN_PASSWORD: "admin-password",
    });
    try {
      const loggedIn = await callAs(t, "/api/auth/login", undefined, {
        method: "POST",
        body: { email: "admin@robo402.test", password: "admin-password" },
      });
      const { access_token: admin } = (await loggedIn.json()) as { access_token: string };
      const suspend = await callAs(t, `/api/admin/robots/${robot.id}/suspend`, admin, {
        method: "POST",
        body: { reason: "reported" },
      });
      expect(suspend.status).toBe(200);
      expect(await eventually(() => events.some((event) => event.code === 4410))).toBe(true);
      expect(await eventually(() => events.some((event) => event.code === 403))).toBe(true);
      expect(link.connected).toBe(false);

      const lift = await callAs(t, `/api/admin/robots/${robot.id}/unsuspend`, admin, { method: "POST" });
      expect(lift.status).toBe(200);
      expect(await eventually(() => link.connected)).toBe(true);
    } finally {
      await close();
    }
  });
});

describe("link attempts", () => {
  it("a flood of attempts from one address is rate-limited (429) before any token is looked at", async () => {
    const t = await startTestPlatform({ robots: [], env: { LINK_RATE_LIMIT: "3" } });
    const server = await served(t);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${server.url}/api/v1/link`, {
          headers: { authorization: `Bearer r4l_guess-${i}` },
        });
        statuses.push(response.status);
        await response.body?.cancel();
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
      await t.close();
    }
  });
});

describe("robot-sim --link", () => {
  it("dials the platform like the bridge, so a simulated robot is driven over the link", async () => {
    const t = await startTestPlatform({ robots: [] });
    const server = await served(t);
    const owner = await signUp(t, "sim-owner@robo402.test", "robot_owner");
    const { device_token } = await registerLinkRobot(t, owner, "sim-tumbller-01");
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL("../../../packages/robot-sim/bin/robot-sim.js", import.meta.url)),
        "--name",
        "sim-tumbller-01",
        "--link",
        server.url,
      ],
      {
        env: { ...process.env, ROBO402_LINK_TOKEN: device_token ?? "" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    try {
      const status = async () =>
        (
          (await (await t.request("/api/v1/robot/status?robot_host=sim-tumbller-01")).json()) as {
            motor_online: boolean;
          }
        ).motor_online;
      expect(await eventually(status, 15_000)).toBe(true);
      const buyer = wallet(5);
      expect((await t.purchase(buyer, "sim-tumbller-01")).status).toBe(200);
      expect((await t.request("/api/v1/robot/motor/right", { wallet: buyer })).status).toBe(200);
      const motorUrl = stdout.match(/motor board: +(http:\/\/\S+)/)?.[1] ?? expect.unreachable();
      const state = (await (await fetch(`${motorUrl}/_sim/state`)).json()) as { moving: string | null };
      expect(state.moving).toBe("right");
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
      await server.close();
      await t.close();
    }
  });
});
