import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN_SCRIPT as MAIN } from "@robo402/server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type ServerProcess, startServer } from "./harness.ts";

// One process owns an embedded database directory: a second `npm start` on it refuses, and a
// predecessor killed with -9 does not block the next start. Always PGlite, whatever the CI pass sets.
// Each test starts two servers: on a loaded machine a start alone can take most of the default 30 s.

let dataDir: string;
let env: Record<string, string>;
let servers: ServerProcess[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "robo402-lock-"));
  env = {
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    REDIS_URL: "",
    PAYMENT_ENABLED: "false",
    SIMULATED_ROBOTS: "",
    SIMULATED_SERVICES: "false",
  };
});
afterEach(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  servers = [];
  rmSync(dataDir, { recursive: true, force: true });
});

async function server(): Promise<ServerProcess> {
  const started = await startServer(env);
  servers.push(started);
  return started;
}

/** A start expected to fail: its exit code and everything it printed (killed if it starts after all). */
function failedStart(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const read = (chunk: Buffer) => {
    output += chunk;
    if (output.includes("robo402 is listening")) child.kill("SIGKILL");
  };
  child.stdout.on("data", read);
  child.stderr.on("data", read);
  const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

const account = { email: "owner@robo402.test", password: "long-enough-password" };

const post = (server: ServerProcess, path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

it("a second server on a PGlite directory in use refuses to start, naming its owner; the first keeps serving", async () => {
  const first = await server();

  const second = await failedStart();
  expect(second.code).toBe(1);
  const lines = second.output.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`is in use by process ${first.child.pid}`);
  expect(lines[0]).toContain("use another DATA_DIR, or DATABASE_URL");

  expect((await post(first, "/api/auth/register", account)).status).toBe(201);
  expect((await post(first, "/api/auth/login", account)).status).toBe(200);
  // Released on a graceful stop: nothing is left claiming the directory.
  await first.stop("SIGTERM");
  expect(readdirSync(join(dataDir, "pglite.lock"))).toEqual([]);
}, 90_000);

it("a server whose predecessor was killed with -9 starts at once on its directory, with its data", async () => {
  const doomed = await server();
  expect((await post(doomed, "/api/auth/register", account)).status).toBe(201);
  await doomed.stop("SIGKILL");
  expect(doomed.child.signalCode).toBe("SIGKILL");

  const revived = await server();
  expect((await fetch(`${revived.url}/health`)).status).toBe(200);
  expect((await post(revived, "/api/auth/login", account)).status).toBe(200);
  // The dead owner's claim is gone; only the new owner's remains.
  expect(readdirSync(join(dataDir, "pglite.lock"))).toEqual([
    expect.stringMatching(new RegExp(`^${revived.child.pid}-`)),
  ]);
}, 90_000);
