import { describe, expect, it } from "vitest";
import { sleep, useSims } from "./helpers.ts";

const startSim = useSims();

describe("motor board", () => {
  it("answers /info with its hostname and address, closing the connection", async () => {
    const sim = await startSim({ name: "finland-tumbller-07" });
    const response = await fetch(`${sim.motorUrl}/info`);
    expect(response.status).toBe(200);
    expect(response.headers.get("connection")).toBe("close");
    expect(await response.json()).toEqual({ hostname: "finland-tumbller-07", ip: "127.0.0.1" });
  });

  it("drives forward at about 0.25 m/s, readable mid-move", async () => {
    const sim = await startSim();
    const response = await fetch(`${sim.motorUrl}/motor/forward`);
    expect(response.status).toBe(200);
    expect(response.headers.get("connection")).toBe("close");
    expect(await response.text()).toBe("");
    await sleep(250);
    const pose = sim.pose();
    const elapsedS = (Date.now() - (sim.commands()[0]?.at ?? 0)) / 1000;
    expect(sim.moving()).toBe("forward");
    expect(pose.x).toBeGreaterThan(2.05);
    expect(pose.x).toBeCloseTo(2 + 0.25 * elapsedS, 2);
    expect(pose.y).toBe(2);
  });

  it("stops by itself when the motion's time is up", async () => {
    const sim = await startSim({ motionDurationsMs: { forward: 200 } });
    await fetch(`${sim.motorUrl}/motor/forward`);
    await sleep(300);
    expect(sim.moving()).toBeNull();
    expect(sim.pose().x).toBeCloseTo(2.05, 6);
  });

  it("turns left counter-clockwise and right clockwise", async () => {
    const sim = await startSim({ motionDurationsMs: { left: 200, right: 100 } });
    await fetch(`${sim.motorUrl}/motor/left`);
    await sleep(250);
    expect(sim.pose().heading).toBeCloseTo(18, 6);
    await fetch(`${sim.motorUrl}/motor/right`);
    await sleep(150);
    expect(sim.pose().heading).toBeCloseTo(9, 6);
  });

  it("stops on /motor/stop and logs every command with the pose it started from", async () => {
    const sim = await startSim();
    await fetch(`${sim.motorUrl}/motor/back`);
    await sleep(100);
    await fetch(`${sim.motorUrl}/motor/stop`);
    const stoppedAt = sim.pose();
    await sleep(50);
    expect(sim.moving()).toBeNull();
    expect(sim.pose()).toEqual(stoppedAt);
    expect(stoppedAt.x).toBeLessThan(1.98);
    const log = sim.commands();
    expect(log.map((entry) => entry.command)).toEqual(["back", "stop"]);
    expect(log[0]?.pose).toEqual({ x: 2, y: 2, heading: 0 });
    expect(log[1]?.pose).toEqual(stoppedAt);
    expect(log[1]?.at).toBeGreaterThanOrEqual((log[0]?.at ?? 0) + 100);
  });

  it("reads temperature and humidity", async () => {
    const sim = await startSim();
    const reading = (await (await fetch(`${sim.motorUrl}/sensor/ht`)).json()) as Record<string, number>;
    expect(reading.temperature).toBeGreaterThan(15);
    expect(reading.temperature).toBeLessThan(30);
    expect(reading.humidity).toBeGreaterThan(20);
    expect(reading.humidity).toBeLessThan(80);
  });

  it("answers 404 to anything else", async () => {
    const sim = await startSim();
    for (const path of ["/motor/jump", "/getImage", "/"]) {
      expect((await fetch(`${sim.motorUrl}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${sim.motorUrl}/motor/forward`, { method: "POST" })).status).toBe(404);
    expect(sim.commands()).toEqual([]);
  });

  it("serves one client at a time", async () => {
    const sim = await startSim();
    sim.setFaults("motor", { slowMs: 150 });
    const started = Date.now();
    const finished = await Promise.all(
      [1, 2].map(async () => {
        await (await fetch(`${sim.motorUrl}/info`)).text();
        return Date.now() - started;
      }),
    );
    expect(Math.max(...finished)).toBeGreaterThanOrEqual(290);
  });
});
