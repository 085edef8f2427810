import { decode } from "jpeg-js";
import { describe, expect, it } from "vitest";
import { sleep, useSims } from "./helpers.ts";

const startSim = useSims();

const postJson = (url: string, body: string) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });

describe("fault injection", () => {
  it("offline drops firmware requests on that board only", async () => {
    const sim = await startSim();
    sim.setFaults("motor", { offline: true });
    await expect(fetch(`${sim.motorUrl}/info`)).rejects.toThrow();
    await expect(fetch(`${sim.motorUrl}/motor/forward`)).rejects.toThrow();
    expect(sim.commands()).toEqual([]);
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(200);
    sim.setFaults("motor", {});
    expect((await fetch(`${sim.motorUrl}/info`)).status).toBe(200);
  });

  it("errorStatus answers firmware requests with that status", async () => {
    const sim = await startSim();
    sim.setFaults("camera", { errorStatus: 500 });
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(500);
    sim.setFaults("motor", { errorStatus: 503 });
    expect((await fetch(`${sim.motorUrl}/motor/forward`)).status).toBe(503);
    expect(sim.moving()).toBeNull();
  });

  it("slowMs delays the answer", async () => {
    const sim = await startSim();
    sim.setFaults("camera", { slowMs: 250 });
    const started = Date.now();
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
  });

  it("never touches the control API", async () => {
    const sim = await startSim();
    sim.setFaults("motor", { offline: true, slowMs: 1000, errorStatus: 500 });
    const started = Date.now();
    const response = await fetch(`${sim.motorUrl}/_sim/state`);
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("refuses faults that make no sense", async () => {
    const sim = await startSim();
    expect(() => sim.setFaults("motor", { errorStatus: 200 })).toThrow(/500 to 599/);
    expect(() => sim.setFaults("motor", { slowMs: -1 })).toThrow(/slowMs/);
    expect(() => sim.setFaults("wheels" as "motor", {})).toThrow(/board/);
  });
});

describe("control API over HTTP", () => {
  it("reports the state: name, pose, motion, commands and faults", async () => {
    const sim = await startSim({ name: "finland-tumbller-09" });
    await fetch(`${sim.motorUrl}/motor/left`);
    const response = await fetch(`${sim.motorUrl}/_sim/state`);
    expect(response.headers.get("content-type")).toBe("application/json");
    const state = await response.json();
    expect(state).toMatchObject({
      name: "finland-tumbller-09",
      moving: "left",
      commands: [{ command: "left", pose: { x: 2, y: 2, heading: 0 } }],
      faults: { motor: {}, camera: {} },
    });
    expect(state.pose.heading).toBeGreaterThan(0);
  });

  it("sets a board's faults, replacing the previous ones", async () => {
    const sim = await startSim();
    const first = await postJson(
      `${sim.motorUrl}/_sim/fault`,
      '{"board":"camera","slowMs":50,"errorStatus":502}',
    );
    expect(first.status).toBe(200);
    expect((await first.json()).faults.camera).toEqual({ slowMs: 50, errorStatus: 502 });
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(502);

    await postJson(`${sim.motorUrl}/_sim/fault`, '{"board":"camera","offline":true}');
    await expect(fetch(`${sim.cameraUrl}/getImage`)).rejects.toThrow();
    const state = await (await fetch(`${sim.motorUrl}/_sim/state`)).json();
    expect(state.faults).toEqual({ motor: {}, camera: { offline: true } });
  });

  it("answers 400 with a reason to bad fault requests", async () => {
    const sim = await startSim();
    const cases: [string, RegExp][] = [
      ["{not json", /invalid JSON/],
      ['{"board":"wheels","offline":true}', /board/],
      ['{"board":"motor","offline":"yes"}', /offline/],
      ['{"board":"motor","slowms":100}', /unknown fault slowms/],
      ['{"board":"motor","errorStatus":404}', /500 to 599/],
      ["[1,2]", /JSON object/],
    ];
    for (const [body, reason] of cases) {
      const response = await postJson(`${sim.motorUrl}/_sim/fault`, body);
      expect(response.status, body).toBe(400);
      expect((await response.json()).error, body).toMatch(reason);
    }
    expect(sim.pose()).toEqual({ x: 2, y: 2, heading: 0 });
    expect((await fetch(`${sim.motorUrl}/info`)).status).toBe(200);
  });

  it("resets faults, the log, the pose and the camera settings", async () => {
    const sim = await startSim();
    await fetch(`${sim.motorUrl}/motor/forward`);
    await fetch(`${sim.cameraUrl}/setResolution?size=VGA`);
    await sleep(100);
    sim.setFaults("motor", { errorStatus: 500 });
    const response = await fetch(`${sim.motorUrl}/_sim/reset`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      pose: { x: 2, y: 2, heading: 0 },
      moving: null,
      commands: [],
    });
    expect(sim.commands()).toEqual([]);
    expect((await fetch(`${sim.motorUrl}/info`)).status).toBe(200);
    const frame = await fetch(`${sim.cameraUrl}/getImage`);
    expect(decode(Buffer.from(await frame.arrayBuffer()))).toMatchObject({ width: 160, height: 120 });
  });

  it("answers 405 to the wrong method and 404 to unknown control paths", async () => {
    const sim = await startSim();
    expect((await fetch(`${sim.motorUrl}/_sim/reset`)).status).toBe(405);
    expect((await fetch(`${sim.motorUrl}/_sim/nothing`)).status).toBe(404);
  });
});
