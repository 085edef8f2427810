import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callAs, signUp, startTestPlatform, type TestPlatform, wallet } from "./helpers.ts";

// An owner's drive robot over HTTP, through the platform: what its registration may say, what its status
// shows to anyone, and a camera that answers something other than a picture.
let t: TestPlatform;
let operators: RobotSim;
let owners: RobotSim;
let badCamera: Server;
let owner: string;

const registration = (endpoint: string, cameraUrl: string | null, host = "owners-bot") => ({
  name: "Owner's Tumbller",
  driver: "tumbller",
  host,
  price: "0.05",
  wallet_address: wallet(7),
  services: ["drive"],
  endpoint,
  camera_url: cameraUrl,
});

beforeAll(async () => {
  operators = await startRobotSim({ name: "lab-bot" });
  owners = await startRobotSim({ name: "owners-bot" });
  // A camera board that answers 200, labelled image/jpeg, with a page instead of a picture.
  badCamera = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "image/jpeg", connection: "close" });
    res.end("<html><body>router login</body></html>");
  });
  await new Promise<void>((resolve) => badCamera.listen(0, "127.0.0.1", resolve));
  const badCameraUrl = `http://127.0.0.1:${(badCamera.address() as AddressInfo).port}`;
  t = await startTestPlatform({
    robots: [],
    env: {
      ROBOTS: JSON.stringify([
        { host: "lab-bot", motor_url: operators.motorUrl, camera_url: operators.cameraUrl },
        { host: "bad-cam", motor_url: operators.motorUrl, camera_url: badCameraUrl },
      ]),
      // The owner's robot-sim runs on this machine's loopback: the operator allows it.
      ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
    },
  });
  owner = await signUp(t, "owner@robo402.test", "robot_owner");
});

afterAll(async () => {
  await t.close();
  await Promise.all([operators.close(), owners.close()]);
  await new Promise((resolve) => badCamera.close(resolve));
});

describe("registering an owner's HTTP drive robot", () => {
  it.each([
    ["a path", (url: string) => `${url}/motor`, null],
    ["a query", (url: string) => `${url}/?next=http://10.0.0.1`, null],
    ["a fragment", (url: string) => `${url}/#x`, null],
  ])("refuses an endpoint with %s, naming the rule", async (_what, endpointOf) => {
    const response = await callAs(t, "/api/robots", owner, {
      method: "POST",
      body: registration(endpointOf(owners.motorUrl), owners.cameraUrl),
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toMatch(
      /endpoint must be the board's address only.*take no path, query or fragment/,
    );
  });

  it("refuses a camera_url with a path the same way", async () => {
    const response = await callAs(t, "/api/robots", owner, {
      method: "POST",
      body: registration(owners.motorUrl, `${owners.cameraUrl}/getImage`),
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toMatch(/camera_url must be the board's address only/);
  });

  it("takes bare board addresses, and its status shows nobody where the owner's robot is", async () => {
    const created = await callAs(t, "/api/robots", owner, {
      method: "POST",
      body: registration(`${owners.motorUrl}/`, owners.cameraUrl),
    });
    expect(created.status).toBe(201);
    const status = await (await t.request("/api/v1/robot/status?robot_host=owners-bot")).json();
    expect(status).toMatchObject({
      robot_host: "owners-bot",
      motor_online: true,
      motor_ip: null,
      motor_mdns: null,
      camera_ip: null,
      camera_mdns: null,
    });
    // The operator's robots on its own network keep the first plan's fields.
    const lab = await (await t.request("/api/v1/robot/status?robot_host=lab-bot")).json();
    expect(lab).toMatchObject({ motor_online: true, motor_mdns: "lab-bot", camera_ip: "127.0.0.1" });
  });
});

describe("a camera answer that is not a JPEG", () => {
  it("is a 502 for the viewer, not a frame", async () => {
    const buyer = wallet(42);
    expect((await t.purchase(buyer, "bad-cam")).status).toBe(200);
    const response = await t.request("/api/v1/robot/camera/frame", { wallet: buyer });
    expect(response.status).toBe(502);
    expect(JSON.stringify(await response.json())).toMatch(
      /camera answered with something that is not a JPEG/,
    );
  });
});
