import { type Bridge, startBridge, Tumbller } from "@robo402/robot-link";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStorage, testStorage, wallet } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// A linked robot in a cluster: the buyer talks to instance A while robo402-link holds the robot's link on
// instance B, so every command, frame and stop crosses Redis to B and the link to robot-sim's boards.
// Needs real engines: DATABASE_URL and REDIS_URL.
const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const HOST = "cluster-tumbller-01";

describe.runIf(shared)("a linked robot driven through another instance", () => {
  let storage: TestStorage;
  let a: ServerProcess;
  let b: ServerProcess;
  let sim: RobotSim;
  let bridge: Bridge;

  beforeAll(async () => {
    storage = await testStorage();
    const env = {
      ...storage.env,
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      PAYMENT_ENABLED: "false",
      // Sessions of 6 s, so expiry comes inside the test; a dead-man longer than that, so the stop at
      // expiry is the session's, not the dead-man's (the bridge takes its dead-man from the platform).
      SESSION_DURATION_MINUTES: "0.1",
      SESSION_SWEEP_MS: "100",
      DEADMAN_MS: "60000",
    };
    a = await startServer(env);
    b = await startServer(env);
    // Its motions last a minute: only a stop ends one.
    sim = await startRobotSim({
      name: HOST,
      motionDurationsMs: { forward: 60_000, back: 60_000, left: 60_000, right: 60_000 },
    });
    const signedUp = await post(a, "/api/auth/register", {
      email: "owner@robo402.test",
      password: "long-enough-password",
      role: "robot_owner",
    });
    const { access_token } = (await signedUp.json()) as { access_token: string };
    const created = await post(
      a,
      "/api/robots",
      {
        name: HOST,
        price: "0.10",
        wallet_address: wallet(9),
        services: ["drive"],
        driver: "link",
        host: HOST,
      },
      access_token,
    );
    expect(created.status).toBe(201);
    const { device_token } = (await created.json()) as { device_token: string };
    bridge = startBridge({
      platform: b.url,
      token: device_token,
      boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
    });
  });
  afterAll(async () => {
    await bridge?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await storage?.drop();
  });

  function post(server: ServerProcess, path: string, body: unknown, bearer?: string) {
    return fetch(`${server.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    });
  }
  const asBuyer = (buyer: string, path: string, method = "GET") =>
    fetch(`${a.url}${path}`, { method, headers: { "x-wallet-address": buyer } });
  const buy = (buyer: string) =>
    fetch(`${a.url}/api/v1/access/purchase`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-wallet-address": buyer },
      body: JSON.stringify({ robot_host: HOST }),
    });

  it("drives the robot from A while B holds its link: the pose changes, frames fan out to viewers of both, release stops it", async () => {
    expect(await eventually(() => bridge.connected, 10_000)).toBe(true);
    // The server logs asynchronously: the line may follow the bridge's open by a moment.
    expect(
      await eventually(() => b.logs.some((line) => line.msg === "robot link up" && line.robot === HOST)),
    ).toBe(true);
    expect(a.logs.some((line) => line.msg === "robot link up")).toBe(false);
    const online = async () =>
      (
        (await (await fetch(`${a.url}/api/v1/robot/status?robot_host=${HOST}`)).json()) as {
          motor_online: boolean;
        }
      ).motor_online;
    expect(await eventually(online, 10_000)).toBe(true);

    const buyer = wallet(1);
    expect((await buy(buyer)).status).toBe(200);
    const start = sim.pose();
    expect((await asBuyer(buyer, "/api/v1/robot/motor/forward")).status).toBe(200);
    expect(sim.moving()).toBe("forward");
    expect(await eventually(() => sim.pose().x !== start.x || sim.pose().y !== start.y)).toBe(true);

    // Eight viewers, four on each instance, three frames each.
    const viewers = [a, a, a, a, b, b, b, b].map(async (server) => {
      const frames: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${server.url}/api/v1/robot/camera/frame`, {
          headers: { "x-wallet-address": buyer },
        });
        const body = new Uint8Array(await response.arrayBuffer());
        expect(response.headers.get("content-type")).toBe("image/jpeg");
        frames.push(body[0] === 0xff && body[1] === 0xd8 ? response.status : -1);
      }
      return frames;
    });
    expect(await Promise.all(viewers)).toEqual(Array(8).fill([200, 200, 200]));

    expect((await asBuyer(buyer, "/api/v1/access/release", "POST")).status).toBe(200);
    expect(await eventually(() => sim.moving() === null)).toBe(true);
    expect(sim.commands().at(-1)?.command).toBe("stop");
  });

  it("a session that expires on A stops the robot linked to B", async () => {
    const buyer = wallet(2);
    expect((await buy(buyer)).status).toBe(200);
    expect((await asBuyer(buyer, "/api/v1/robot/motor/left")).status).toBe(200);
    expect(sim.moving()).toBe("left");
    expect(await eventually(() => sim.moving() === null, 15_000)).toBe(true);
    expect(sim.commands().at(-1)?.command).toBe("stop");
    expect(
      await eventually(() =>
        [...a.logs, ...b.logs].some((line) => line.msg === "access ended" && line.reason === "expired"),
      ),
    ).toBe(true);
  });
});
