import { Writable } from "node:stream";
import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { logContext, REDACTED_PATHS } from "../src/http/request-context.ts";
import { localChainEnv, robotsEnv, type TestStorage, testStorage } from "./helpers.ts";

// What an operator sees: Prometheus metrics, JSON log lines that name their request, readiness of every
// dependency, and no secret in any log line. A real paid platform on the local chain, logging as main.ts does.
const ROBOT = "finland-tumbller-01";

let chain: Devchain;
let sim: RobotSim;
let storage: TestStorage;
let platform: Platform;
const lines: Array<Record<string, unknown>> = [];
let logText = "";
let sessionToken: string;

beforeAll(async () => {
  chain = await startDevchain();
  sim = await startRobotSim({ name: ROBOT });
  storage = await testStorage();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk;
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: "debug", mixin: logContext, redact: REDACTED_PATHS }, sink);
  platform = await createPlatform(
    loadConfig({
      ...storage.env,
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      ROBOTS: robotsEnv([sim]),
      ...localChainEnv(chain),
      ADMIN_EMAIL: "admin@robo402.test",
      ADMIN_PASSWORD: "correct horse battery staple",
      JWT_SECRET: "a-jwt-secret-that-must-never-appear-in-logs",
    }),
    logger,
  );
});
afterAll(async () => {
  await platform?.close();
  await sim?.close();
  await storage?.drop();
  await chain?.close();
});

const request = (path: string, init?: RequestInit) => Promise.resolve(platform.app.request(path, init));

describe("logs", () => {
  it("every line written while serving a request names it, and the answer carries the same id", async () => {
    const response = await request("/api/v1/robot/status?robot_host=finland-tumbller-01", {
      headers: { "x-request-id": "trace-42" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("trace-42");
    const access = lines.find((line) => line.msg === "request" && line.req_id === "trace-42");
    expect(access).toMatchObject({ method: "GET", path: "/api/v1/robot/status", status: 200 });

    const fresh = await request("/health");
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const junk = await request("/health", { headers: { "x-request-id": "not an id; drop table" } });
    expect(junk.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("no secret reaches a log line: passwords, tokens, payment signatures, keys", async () => {
    const key = chain.accounts[1]?.privateKey ?? expect.unreachable();
    const client = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: key,
      fetch: async (input, init) => platform.app.request(new Request(input, init)),
    });
    const bought = await client.buy(ROBOT);
    sessionToken = bought.session.token ?? expect.unreachable();
    const login = await request("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@robo402.test", password: "correct horse battery staple" }),
    });
    const { access_token: jwt } = (await login.json()) as { access_token: string };
    await request("/api/auth/me", { headers: { authorization: `Bearer ${jwt}` } });
    await request("/api/auth/me", { headers: { authorization: "Bearer forged.token.value" } });

    expect(lines.length).toBeGreaterThan(5);
    const secrets: string[] = [
      "correct horse battery staple",
      "a-jwt-secret-that-must-never-appear-in-logs",
      jwt,
      bought.session.token ?? expect.unreachable(),
      key.slice(2),
    ];
    for (const secret of secrets) {
      expect(logText.includes(secret), `a log line contains ${secret.slice(0, 12)}…`).toBe(false);
    }
  });
});

describe("metrics and health", () => {
  it("/metrics reports requests by route, payments by outcome, sessions and robot health", async () => {
    await request("/api/v1/robots");
    const response = await request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(
      /robo402_http_requests_total\{method="GET",route="\/api\/v1\/robots",status="200"\} [1-9]/,
    );
    expect(text).toMatch(
      /robo402_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/robots"\}/,
    );
    expect(text).toContain('robo402_payments{status="granted"} 1');
    expect(text).toContain("robo402_active_sessions 1");
    expect(text).toContain('robo402_robot_up{robot="finland-tumbller-01",board="motor"} 1');
    // The camera as last seen (the status page above looked at it); a scrape never asks a camera itself.
    expect(text).toContain('robo402_robot_up{robot="finland-tumbller-01",board="camera"} 1');
    // Paths are never labels: an id in a URL does not make a new series.
    await request("/api/robots/00000000-0000-4000-8000-000000000000");
    expect(await (await request("/metrics")).text()).toContain('route="/api/robots/:id"');
  });

  it("/health/ready checks the database, the chain and the facilitator; /health/live only the process", async () => {
    const ready = await request("/health/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: {
        database: "ok",
        chain: "ok",
        facilitator: "ok",
        ...(process.env.REDIS_URL ? { redis: "ok" } : {}),
      },
    });
    expect((await request("/health/live")).status).toBe(200);
  });

  it("a robot that stops answering shows as down", async () => {
    sim.setFaults("motor", { offline: true });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the one-second /info cache
      const text = await (await request("/metrics")).text();
      expect(text).toContain('robo402_robot_up{robot="finland-tumbller-01",board="motor"} 0');
    } finally {
      sim.setFaults("motor", {});
    }
  });

  it("every stop is counted with its reason and whether the robot confirmed it", async () => {
    const released = await request("/api/v1/access/release", {
      method: "POST",
      headers: { authorization: `Bearer ${sessionToken}` },
    });
    expect(released.status).toBe(200);
    // The stop goes out behind the answer (it retries until the robot confirms).
    await expect
      .poll(async () => (await request("/metrics")).text())
      .toContain('robo402_robot_stops_total{reason="released",outcome="confirmed"} 1');
    expect(await (await request("/metrics")).text()).toContain("robo402_active_sessions 0");
  });
});
