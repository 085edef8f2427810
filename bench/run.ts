/**
 * `npm run bench`: each row measures the platform against a baseline run in the same process tree,
 * one after the other, and reports the ratio. These machines are noisy; read the ratios, not the
 * absolute times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startServer } from "../e2e/harness.ts";
import { type Figures, measure } from "./measure.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 8;
const WALLET = "0xbe4c000000000000000000000000000000000001";

/** A robot-sim in its own process, so the load generator and the robot do not share a CPU. */
async function startSimProcess(
  name: string,
): Promise<{ motorUrl: string; cameraUrl: string; child: ChildProcess }> {
  const bin = fileURLToPath(new URL("../packages/robot-sim/bin/robot-sim.js", import.meta.url));
  const child = spawn(process.execPath, [bin, "--name", name, "--motor-port", "0", "--camera-port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const urls: string[] = [];
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    urls.push(...(line.match(/http:\/\/[\d.:]+/g) ?? []));
    if (urls.length >= 2) break;
  }
  const [motorUrl, cameraUrl] = urls as [string, string];
  return { motorUrl, cameraUrl, child };
}

const ms = (value: number) => value.toFixed(2);

function row(name: string, subject: Figures, baseline: Figures): string {
  return [
    name,
    `${ms(subject.p50)} / ${ms(subject.p99)}`,
    subject.rps.toFixed(0),
    `${ms(baseline.p50)} / ${ms(baseline.p99)}`,
    baseline.rps.toFixed(0),
    (subject.p50 / baseline.p50).toFixed(2),
    `${ms(subject.p50 - baseline.p50)} ms`,
    (subject.rps / baseline.rps).toFixed(2),
  ].join(" | ");
}

async function main(): Promise<void> {
  const sim = await startSimProcess("bench-tumbller");
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-"));
  const server = await startServer({
    SIMULATED_ROBOTS: "",
    ROBOTS: JSON.stringify([{ host: "bench-tumbller", motor_url: sim.motorUrl, camera_url: sim.cameraUrl }]),
    DATA_DIR: dataDir,
    SESSION_DURATION_MINUTES: "60",
  });
  try {
    const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-wallet-address": WALLET },
      body: JSON.stringify({ robot_host: "bench-tumbller" }),
    });
    if (!bought.ok) throw new Error(`purchase failed: ${bought.status} ${await bought.text()}`);

    const options = { samples: SAMPLES, seconds: SECONDS, connections: CONNECTIONS };
    const direct = await measure({ url: `${sim.motorUrl}/motor/forward` }, options);
    const platform = await measure(
      { url: `${server.url}/api/v1/robot/motor/forward`, headers: { "x-wallet-address": WALLET } },
      options,
    );

    console.log(
      `robo402 bench — ${SAMPLES} sequential samples for latency, ${CONNECTIONS} connections × ${SECONDS} s for req/s`,
    );
    console.log("");
    console.log(
      "| row | platform p50 / p99 ms | platform req/s | baseline p50 / p99 ms | baseline req/s | p50 ratio | added p50 | req/s ratio |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    console.log(`| ${row("motor command (baseline: straight to robot-sim)", platform, direct)} |`);
  } finally {
    await server.stop();
    sim.child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
