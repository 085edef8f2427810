import { decode } from "jpeg-js";
import { afterEach, describe, expect, it } from "vitest";
import { type ServiceRobot, type ServiceRobotOptions, startServiceRobot } from "../src/index.ts";
import { useSims } from "./helpers.ts";

const startSim = useSims();
const robots: ServiceRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((robot) => robot.close()));
});

async function startRobot(options: ServiceRobotOptions): Promise<ServiceRobot> {
  const robot = await startServiceRobot(options);
  robots.push(robot);
  return robot;
}

const call = (robot: ServiceRobot, body: unknown) =>
  fetch(robot.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const analyse = (robot: ServiceRobot, input: unknown) => call(robot, { service: "data-analysis", input });

async function expectRefusal(response: Response, status: number, detail: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect((await response.json()).detail).toMatch(detail);
}

describe("data-analysis robot", () => {
  it("describes the numbers it is given", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    const response = await analyse(robot, { values: [9, 2, 4, 4, 5, 5, 7, 4] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      count: 8,
      sum: 40,
      mean: 5,
      median: 4.5,
      min: 2,
      max: 9,
      stddev: 2,
    });
    const odd = await (await analyse(robot, { values: [3, -1.5, 10] })).json();
    expect(odd).toMatchObject({ count: 3, median: 3, min: -1.5, max: 10 });
  });

  it("takes 100,000 numbers and refuses one more", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    const values = Array.from({ length: 100_000 }, (_, index) => index + 1);
    const response = await analyse(robot, { values });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ count: 100_000, sum: 5_000_050_000, median: 50_000.5 });
    await expectRefusal(await analyse(robot, { values: [...values, 1] }), 422, /input\.values: .*100000/);
  });

  it("answers 422 naming the field for input it cannot use", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    const cases: [unknown, RegExp][] = [
      [{ values: [] }, /input\.values: .*>=1/],
      [{ values: "1,2,3" }, /input\.values: .*expected array/],
      [{ values: [1, "2"] }, /input\.values\.1: .*expected number/],
      [{ numbers: [1] }, /input\.values: .*expected array/],
      [undefined, /input: .*expected object/],
      [{ values: [1e308, 1e308] }, /input\.values: numbers too large, their sum overflows/],
    ];
    for (const [input, detail] of cases) await expectRefusal(await analyse(robot, input), 422, detail);
    // JSON has no Infinity, but 1e999 parses to it.
    const infinite = await call(robot, '{"service":"data-analysis","input":{"values":[1,1e999]}}');
    await expectRefusal(infinite, 422, /input\.values\.1: .*Infinity/);
  });
});

describe("any service robot", () => {
  it("describes itself with each service's input and output schema", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    const response = await fetch(robot.url);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.kind).toBe("data-analysis");
    expect(body.services).toHaveLength(1);
    expect(body.services[0]).toMatchObject({
      name: "data-analysis",
      input_schema: {
        type: "object",
        required: ["values"],
        properties: { values: { type: "array", items: { type: "number" }, maxItems: 100_000 } },
      },
      output_schema: { type: "object", required: expect.arrayContaining(["mean", "median", "stddev"]) },
    });
  });

  it("refuses bad requests with a detail", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    await expectRefusal(await call(robot, "{not json"), 400, /not JSON/);
    await expectRefusal(await call(robot, { input: { values: [1] } }), 422, /body\.service/);
    await expectRefusal(
      await call(robot, { service: "snapshot" }),
      404,
      /does not sell "snapshot"; it sells "data-analysis"/,
    );
    await expectRefusal(await fetch(new URL("/run", robot.url)), 404, /GET \/ lists the services/);
    await expectRefusal(await fetch(robot.url, { method: "DELETE" }), 405, /GET or POST/);
  });

  it("refuses to start without what its kind needs", async () => {
    await expect(startServiceRobot({ kind: "snapshot" })).rejects.toThrow(/cameraUrl/);
    await expect(startServiceRobot({ kind: "weather" as "snapshot" })).rejects.toThrow(
      /snapshot, data-analysis/,
    );
  });
});

describe("snapshot robot", () => {
  it("returns the Tumbller camera's current JPEG", async () => {
    const sim = await startSim();
    const robot = await startRobot({ kind: "snapshot", cameraUrl: sim.cameraUrl });
    const before = Date.now();
    const response = await call(robot, { service: "snapshot", input: {} });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.content_type).toBe("image/jpeg");
    const jpeg = Buffer.from(body.image, "base64");
    expect(body.bytes).toBe(jpeg.length);
    expect(decode(jpeg)).toMatchObject({ width: 160, height: 120 });
    expect(Date.parse(body.taken_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(body.taken_at).toISOString()).toBe(body.taken_at);
  });

  it("waits out the camera's 100 ms rule instead of failing", async () => {
    const sim = await startSim();
    const robot = await startRobot({ kind: "snapshot", cameraUrl: sim.cameraUrl });
    // Someone else just took a frame, so the camera answers 503 to a request right now.
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(200);
    const statuses = await Promise.all(
      [1, 2, 3].map(async () => (await call(robot, { service: "snapshot" })).status),
    );
    expect(statuses).toEqual([200, 200, 200]);
  });

  it("says so when the camera is unreachable, failing or busy for good", async () => {
    const sim = await startSim();
    const robot = await startRobot({ kind: "snapshot", cameraUrl: sim.cameraUrl });
    sim.setFaults("camera", { offline: true });
    await expectRefusal(await call(robot, { service: "snapshot" }), 502, /camera board is unreachable/);
    sim.setFaults("camera", { errorStatus: 500 });
    await expectRefusal(await call(robot, { service: "snapshot" }), 502, /camera board answered 500/);
    sim.setFaults("camera", { errorStatus: 503 });
    await expectRefusal(await call(robot, { service: "snapshot" }), 503, /camera is busy/);
  });

  it("refuses input it does not take", async () => {
    const sim = await startSim();
    const robot = await startRobot({ kind: "snapshot", cameraUrl: sim.cameraUrl });
    await expectRefusal(
      await call(robot, { service: "snapshot", input: { resolution: "VGA" } }),
      422,
      /input: Unrecognized key: "resolution"/,
    );
  });
});

describe("service robot faults", () => {
  it("offline drops the connection, and {} heals it", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    robot.faults = { offline: true };
    await expect(analyse(robot, { values: [1] })).rejects.toThrow();
    robot.faults = {};
    expect((await analyse(robot, { values: [1] })).status).toBe(200);
  });

  it("errorStatus answers with that 5xx", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    robot.faults = { errorStatus: 502 };
    expect((await analyse(robot, { values: [1] })).status).toBe(502);
  });

  it("slowMs delays the answer", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    robot.faults = { slowMs: 250 };
    const started = Date.now();
    expect((await analyse(robot, { values: [1] })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
  });

  it("invalid answers 200 labelled JSON that is not JSON", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    robot.faults = { invalid: true };
    const response = await analyse(robot, { values: [1] });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    await expect(response.json()).rejects.toThrow(SyntaxError);
  });

  it("refuses faults that make no sense and keeps the old ones", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    robot.faults = { slowMs: 10 };
    expect(() => {
      robot.faults = { invalid: "yes" as unknown as boolean };
    }).toThrow(/invalid must be true or false/);
    expect(() => {
      robot.faults = { errorStatus: 404 };
    }).toThrow(/500 to 599/);
    expect(robot.faults).toEqual({ slowMs: 10 });
  });

  it("can be switched over HTTP by a test in another process", async () => {
    const robot = await startRobot({ kind: "data-analysis" });
    const fault = (body: string) => fetch(new URL("/_sim/fault", robot.url), { method: "POST", body });
    const response = await fault('{"errorStatus":503,"invalid":true}');
    expect(await response.json()).toEqual({ faults: { errorStatus: 503, invalid: true } });
    expect((await analyse(robot, { values: [1] })).status).toBe(503);
    await expectRefusal(await fault('{"slowMs":-5}'), 400, /slowMs/);
    await fault("{}");
    expect((await analyse(robot, { values: [1] })).status).toBe(200);
  });
});
