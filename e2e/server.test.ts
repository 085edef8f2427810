import { Robo402Client } from "@robo402/client";
import { DEV_ACCOUNTS } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  eventually,
  robotsEnv,
  sleep,
  type TestStorage,
  testStorage,
  wallet,
} from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

const ROBOT = "finland-tumbller-01";
const DRIVER = wallet(0xd1);

let sims: RobotSim[] = [];
let storage: TestStorage;
let servers: ServerProcess[] = [];

beforeEach(async () => {
  sims = await Promise.all([ROBOT, "finland-tumbller-02"].map((name) => startRobotSim({ name })));
  storage = await testStorage();
});
afterEach(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  servers = [];
  await Promise.all(sims.map((sim) => sim.close()));
  await storage.drop();
});

async function server(env: Record<string, string> = {}): Promise<ServerProcess> {
  const started = await startServer({
    SIMULATED_ROBOTS: "",
    ROBOTS: robotsEnv(sims),
    PAYMENT_ENABLED: "false",
    ...storage.env,
    ...env,
  });
  servers.push(started);
  return started;
}

const call = (base: ServerProcess, path: string, init: RequestInit & { wallet?: string } = {}) =>
  fetch(`${base.url}${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.wallet ? { "x-wallet-address": init.wallet } : {}),
    },
  });
const buy = (base: ServerProcess, who: string, robot = ROBOT) =>
  call(base, "/api/v1/access/purchase", {
    method: "POST",
    wallet: who,
    body: JSON.stringify({ robot_host: robot }),
  });

describe("the server as a process, against robot-sim over HTTP", () => {
  it("driving forward moves the robot's pose", async () => {
    const s = await server();
    expect((await buy(s, DRIVER)).status).toBe(200);
    const [sim] = sims;
    const before = sim?.pose();
    expect((await call(s, "/api/v1/robot/motor/forward", { wallet: DRIVER })).status).toBe(200);
    await sleep(400);
    const after = sim?.pose();
    expect(
      Math.hypot((after?.x ?? 0) - (before?.x ?? 0), (after?.y ?? 0) - (before?.y ?? 0)),
    ).toBeGreaterThan(0.05);
  });

  it("keeps every session and lock across a crash and restart", async () => {
    const first = await server();
    expect((await buy(first, DRIVER)).status).toBe(200);
    const before = (await (await call(first, "/api/v1/access/status", { wallet: DRIVER })).json()) as {
      expires_at: string;
    };
    await first.stop("SIGKILL");

    const second = await server();
    const status = (await (await call(second, "/api/v1/access/status", { wallet: DRIVER })).json()) as {
      active: boolean;
      expires_at: string;
    };
    expect(status.active).toBe(true);
    expect(status.expires_at).toBe(before.expires_at);
    expect((await buy(second, wallet(0xbad))).status).toBe(409);
    expect((await call(second, "/api/v1/robot/motor/left", { wallet: DRIVER })).status).toBe(200);
  });

  it("sends stop when a session expires", async () => {
    const s = await server({ SESSION_DURATION_MINUTES: "0.02", SESSION_SWEEP_MS: "100" });
    await buy(s, DRIVER);
    await call(s, "/api/v1/robot/motor/forward", { wallet: DRIVER });
    const [sim] = sims;
    expect(await eventually(() => sim?.commands().at(-1)?.command === "stop", 5000)).toBe(true);
    expect(
      await eventually(() => s.logs.some((line) => line.msg === "access ended" && line.reason === "expired")),
    ).toBe(true);
  });

  it("sends stop when the driver goes silent", async () => {
    const s = await server({ DEADMAN_MS: "400" });
    await buy(s, DRIVER);
    await call(s, "/api/v1/robot/motor/back", { wallet: DRIVER });
    const [sim] = sims;
    expect(await eventually(() => sim?.commands().at(-1)?.command === "stop", 3000)).toBe(true);
  });

  it("answers 503 for an offline robot", async () => {
    const s = await server();
    sims[0]?.setFaults("motor", { offline: true });
    const response = await buy(s, DRIVER);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ detail: `Robot '${ROBOT}' is offline.` });
  });
});

describe("npm start on embedded defaults", () => {
  it("runs paid mode on its own local chain: a dev key pays, drives and sees the camera", async () => {
    const s = await startServer({
      ...storage.env,
      SIMULATED_ROBOTS: "finland-tumbller-01,finland-tumbller-02",
    });
    servers.push(s);
    for (const robot of ["finland-tumbller-01", "finland-tumbller-02"]) {
      const status = await (await call(s, `/api/v1/robot/status?robot_host=${robot}`)).json();
      expect(status).toMatchObject({
        robot_host: robot,
        motor_online: true,
        camera_online: true,
        available: true,
      });
    }
    expect(await (await call(s, "/api/v1/access/config")).json()).toMatchObject({
      payment_enabled: true,
      session_price: "$0.10",
      network: "eip155:31337",
    });
    expect((await buy(s, DRIVER, "finland-tumbller-02")).status).toBe(402);
    // The embedded chain funds anvil's well-known dev accounts.
    const client = new Robo402Client({ baseUrl: s.url, privateKey: DEV_ACCOUNTS[3]?.privateKey });
    const purchase = await client.buy("finland-tumbller-02");
    expect(purchase.payment_tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await client.drive("left")).toEqual({ status: "ok", command: "left" });
    expect((await client.frame()).slice(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));
  });
});
