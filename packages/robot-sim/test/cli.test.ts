import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/robot-sim.js", import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function untilOutput(
  read: () => string,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = read().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output: ${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("robot-sim CLI", () => {
  it("prints both URLs, serves /info and stops cleanly on SIGTERM", async () => {
    const sim = run(["--name", "finland-tumbller-03", "--motor-port", "0", "--camera-port", "0"]);
    const [, motorUrl] = await untilOutput(() => sim.output().stdout, /motor board: +(http:\/\/\S+)/);
    await untilOutput(() => sim.output().stdout, /camera board: +http:\/\/127\.0\.0\.1:\d+/);
    const info = await (await fetch(`${motorUrl}/info`)).json();
    expect(info).toEqual({ hostname: "finland-tumbller-03", ip: "127.0.0.1" });
    sim.child.kill("SIGTERM");
    expect(await sim.exited).toBe(0);
    await expect(fetch(`${motorUrl}/info`)).rejects.toThrow();
  });

  it("exits 2 with one line on bad arguments", async () => {
    const runs = [
      ["--name", "x", "--motor-port", "eighty"],
      ["--name", "x", "--speed", "9"],
      ["--motor-port", "8081"],
    ];
    const results = await Promise.all(
      runs.map(async (args) => {
        const cli = run(args);
        return { code: await cli.exited, ...cli.output() };
      }),
    );
    expect(results.map((result) => result.code)).toEqual([2, 2, 2]);
    for (const result of results) expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(results.map((result) => result.stderr)).toEqual([
      expect.stringContaining("--motor-port must be a port"),
      expect.stringContaining("--speed"),
      expect.stringContaining("--name is required"),
    ]);
  });

  it("--service runs a service robot, with a Tumbller camera of its own for snapshots", async () => {
    const analysis = run(["--service", "data-analysis", "--port", "0"]);
    const snapshot = run(["--service", "snapshot"]);
    const [, analysisUrl] = await untilOutput(
      () => analysis.output().stdout,
      /service robot: (http:\/\/\S+)/,
    );
    const [, snapshotUrl] = await untilOutput(
      () => snapshot.output().stdout,
      /service robot: (http:\/\/\S+)/,
    );
    const post = (url: string | undefined, body: unknown) =>
      fetch(url ?? "", { method: "POST", body: JSON.stringify(body) });
    const stats = await post(analysisUrl, { service: "data-analysis", input: { values: [1, 2, 3] } });
    expect(await stats.json()).toMatchObject({ count: 3, mean: 2 });
    const picture = await post(snapshotUrl, { service: "snapshot" });
    expect(await picture.json()).toMatchObject({ content_type: "image/jpeg" });
    snapshot.child.kill("SIGTERM");
    expect(await snapshot.exited).toBe(0);
    await expect(post(snapshotUrl, { service: "snapshot" })).rejects.toThrow();
  });

  it("exits 2 with one line on bad --service arguments", async () => {
    const runs = [
      ["--service", "weather"],
      ["--service", "data-analysis", "--camera-url", "http://127.0.0.1:1"],
      ["--service", "snapshot", "--motor-port", "8081"],
      ["--name", "x", "--port", "8081"],
    ];
    const results = await Promise.all(
      runs.map(async (args) => {
        const cli = run(args);
        return { code: await cli.exited, ...cli.output() };
      }),
    );
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2]);
    expect(results.map((result) => result.stderr)).toEqual([
      expect.stringContaining('--service must be snapshot or data-analysis, not "weather"'),
      expect.stringContaining("--camera-url must be a URL and goes with --service snapshot"),
      expect.stringContaining("--motor-port is for a Tumbller"),
      expect.stringContaining("--port goes with --service"),
    ]);
  });

  it("prints usage on --help", async () => {
    const cli = run(["--help"]);
    expect(await cli.exited).toBe(0);
    expect(cli.output().stdout).toMatch(/^Usage: robot-sim --name/);
  });
});
