import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type RobotSim, type ServiceRobot, startRobotSim, startServiceRobot } from "@robo402/robot-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ExecutionOutcome, executeService } from "../src/execute/executor.ts";
import { guardedDispatcher } from "../src/robots/endpoint-guard.ts";

// The robots below listen on loopback, so the guard is told to let loopback through, as a dev setup would.
const dispatcher = guardedDispatcher({ allowedNetworks: ["127.0.0.0/8"] });
const OPTIONS = { timeoutMs: 5000, maxResponseBytes: 1024 * 1024, dispatcher };

let tumbller: RobotSim;
let camera: ServiceRobot;
let analysis: ServiceRobot;
const servers: Server[] = [];

beforeAll(async () => {
  tumbller = await startRobotSim({ name: "finland-tumbller-07" });
  camera = await startServiceRobot({ kind: "snapshot", cameraUrl: tumbller.cameraUrl });
  analysis = await startServiceRobot({ kind: "data-analysis" });
});
afterEach(async () => {
  analysis.faults = {};
  camera.faults = {};
  tumbller.setFaults("camera", {});
  await Promise.all(
    servers.splice(0).map((server) => new Promise((done) => server.close(done).closeAllConnections())),
  );
});
afterAll(async () => {
  await Promise.all([camera.close(), analysis.close(), tumbller.close(), dispatcher.close()]);
});

/** A misbehaving robot that no well-made simulator would be: a plain HTTP server doing one odd thing. */
async function oddRobot(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function failure(outcome: ExecutionOutcome) {
  if (outcome.status === "success") throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return { status: outcome.status, error: outcome.error };
}

const analyse = (values: unknown, options = OPTIONS) =>
  executeService(analysis.url, { service: "data-analysis", input: { values } }, options);

describe("executeService", () => {
  it("returns a data-analysis robot's result", async () => {
    const outcome = await analyse([9, 2, 4, 4, 5, 5, 7, 4]);
    expect(outcome).toEqual({
      status: "success",
      result: { count: 8, sum: 40, mean: 5, median: 4.5, min: 2, max: 9, stddev: 2 },
      responseTimeMs: expect.any(Number),
    });
  });

  it("returns a snapshot robot's picture from a real Tumbller camera", async () => {
    const outcome = await executeService(camera.url, { service: "snapshot", input: {} }, OPTIONS);
    if (outcome.status !== "success") throw new Error(outcome.error);
    const result = outcome.result as { image: string; content_type: string; bytes: number };
    expect(result.content_type).toBe("image/jpeg");
    const jpeg = Buffer.from(result.image, "base64");
    expect(jpeg.length).toBe(result.bytes);
    // A JPEG starts with the SOI marker (FF D8) followed by another marker.
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it("passes on the detail of a robot's 4xx, so the caller learns why", async () => {
    expect(failure(await analyse([]))).toEqual({
      status: "failed",
      error: "it refused the request (422): input.values: Too small: expected array to have >=1 items",
    });
    const unsold = await executeService(analysis.url, { service: "snapshot", input: {} }, OPTIONS);
    expect(failure(unsold).error).toBe(
      'it refused the request (404): this robot does not sell "snapshot"; it sells "data-analysis"',
    );
  });

  it("reports a robot that answers too slowly as a timeout", async () => {
    analysis.faults = { slowMs: 3000 };
    expect(failure(await analyse([1], { ...OPTIONS, timeoutMs: 200 }))).toEqual({
      status: "timeout",
      error: "no answer within 200 ms",
    });
  });

  it("reports a 5xx, with the robot's detail when it gave one", async () => {
    analysis.faults = { errorStatus: 503 };
    expect(failure(await analyse([1]))).toEqual({ status: "failed", error: "it answered 503" });
    tumbller.setFaults("camera", { offline: true });
    const noCamera = await executeService(camera.url, { service: "snapshot", input: {} }, OPTIONS);
    expect(failure(noCamera).error).toMatch(/^it answered 502: the camera board is unreachable/);
  });

  it("refuses an answer labelled JSON that is not JSON", async () => {
    analysis.faults = { invalid: true };
    expect(failure(await analyse([1]))).toEqual({ status: "failed", error: "its answer is not valid JSON" });
  });

  it("refuses an answer that is not application/json", async () => {
    const url = await oddRobot((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>Welcome to nginx!</html>");
    });
    const outcome = await executeService(url, { service: "x", input: null }, OPTIONS);
    expect(failure(outcome).error).toBe("its answer is text/html, not application/json");
  });

  it("refuses an oversized answer, declared or streamed without end", async () => {
    const small = { ...OPTIONS, maxResponseBytes: 1000 };
    const snapshot = await executeService(camera.url, { service: "snapshot", input: {} }, small);
    expect(failure(snapshot)).toEqual({ status: "failed", error: "its answer is larger than 1000 bytes" });

    // No Content-Length and no end: only reading stopped at the limit gets an answer before the timeout.
    const url = await oddRobot((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = `[${"1,".repeat(8 * 1024)}`;
      const pour = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pour);
      };
      pour();
    });
    const endless = await executeService(url, { service: "x", input: null }, { ...small, timeoutMs: 20_000 });
    expect(failure(endless)).toEqual({ status: "failed", error: "its answer is larger than 1000 bytes" });
  });

  it("does not follow a redirect, and says so", async () => {
    const url = await oddRobot((_req, res) => {
      res.writeHead(307, { location: analysis.url }).end();
    });
    const outcome = await executeService(url, { service: "data-analysis", input: { values: [1] } }, OPTIONS);
    expect(failure(outcome)).toEqual({
      status: "failed",
      error: `it answered with a redirect (307 to ${analysis.url}), which is not followed`,
    });
  });

  it("reports a robot that is offline or gone as unreachable", async () => {
    analysis.faults = { offline: true };
    expect(failure(await analyse([1])).error).toMatch(/^unreachable \(/);
    const gone = await startServiceRobot({ kind: "data-analysis" });
    await gone.close();
    const outcome = await executeService(gone.url, { service: "data-analysis", input: {} }, OPTIONS);
    expect(failure(outcome).error).toMatch(/^unreachable \(.*ECONNREFUSED/);
  });

  it("reports an endpoint the SSRF guard refuses", async () => {
    const strict = guardedDispatcher({ allowedNetworks: [] });
    const outcome = await analyse([1], { ...OPTIONS, dispatcher: strict });
    expect(failure(outcome).error).toMatch(/^its endpoint is refused: 127\.0\.0\.1 is a loopback address/);
    await strict.close();
  });
});
