import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startRobotSim } from "../src/index.ts";
import { sleep, useSims } from "./helpers.ts";

const startSim = useSims();

describe("startRobotSim and close", () => {
  it("listens on free loopback ports by default", async () => {
    const sim = await startSim();
    expect(sim.motorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.cameraUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.cameraUrl).not.toBe(sim.motorUrl);
  });

  it("ends requests still waiting on a slow board and frees the ports", async () => {
    const sim = await startSim();
    sim.setFaults("motor", { slowMs: 10_000 });
    const pending = fetch(`${sim.motorUrl}/info`);
    await sleep(50);
    const started = Date.now();
    await sim.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${sim.cameraUrl}/getImage`)).rejects.toThrow();
  });

  it("fails to start when a port is taken, leaving no board behind", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      await expect(startRobotSim({ name: "clash", cameraPort: taken })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it("refuses options that cannot work", async () => {
    await expect(startRobotSim({ name: " " })).rejects.toThrow(/name/);
    await expect(startRobotSim({ name: "x", motionDurationsMs: { left: -1 } })).rejects.toThrow(/left/);
  });
});
