// `npm run soak`: simulated users buy, drive, watch and release robots against one server on the devchain
// for SOAK_SECONDS, then the report: errors, p99 latency per operation, the server's memory growth, and
// whether the ledger matches the chain. Exits non-zero when the books do not balance (or the server died),
// never because of latency.
import { readFileSync } from "node:fs";
import { Robo402Client, Robo402Error } from "@robo402/client";
import { type DevAccount, startDevchain } from "@robo402/devchain";
import { startRobotSim } from "@robo402/robot-sim";
import { z } from "zod";
import { startCluster } from "../e2e/reliability/cluster.ts";
import { auditLedger } from "../e2e/reliability/ledger.ts";
import { fundedWallets } from "../e2e/reliability/wallets.ts";

const Settings = z.object({
  SOAK_SECONDS: z.coerce.number().positive().default(600),
  SOAK_USERS: z.coerce.number().int().positive().default(50),
  SOAK_ROBOTS: z.coerce.number().int().positive().default(5),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "the soak needs DATABASE_URL (a PostgreSQL server)"),
  REDIS_URL: z.string().optional(),
});

type Operation = "buy" | "drive" | "frame" | "stream" | "status" | "release";

/** Latencies and failures per operation, as the simulated users saw them. */
class Tally {
  readonly latencies = new Map<Operation, number[]>();
  readonly errors = new Map<string, number>();
  refused = 0;

  async time<T>(operation: Operation, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const list = this.latencies.get(operation) ?? [];
      list.push(performance.now() - started);
      this.latencies.set(operation, list);
    }
  }

  error(operation: Operation, error: unknown) {
    const what =
      error instanceof Robo402Error
        ? `${error.status} ${String(error.detail).slice(0, 80)}`
        : String(error).slice(0, 120);
    const key = `${operation}: ${what}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (from: number, to: number) => from + Math.random() * (to - from);

/** The server's resident memory in bytes, from Linux's /proc (the report leaves it out elsewhere). */
function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a live MJPEG stream until `frames` JPEGs have arrived; resolves with how many did. */
async function watch(url: string, token: string, frames: number): Promise<number> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => ({}))) as { detail?: unknown };
    throw new Robo402Error(response.status, body.detail ?? response.statusText);
  }
  let seen = 0;
  let previous = 0;
  try {
    for await (const chunk of response.body) {
      const bytes = chunk as Uint8Array;
      for (const byte of bytes) {
        // A JPEG starts with FF D8.
        if (previous === 0xff && byte === 0xd8) seen++;
        previous = byte;
      }
      if (seen >= frames) break;
    }
  } finally {
    abort.abort();
  }
  return seen;
}

/** One user: buys some robot, drives it a little, watches it, lets it go; again until the deadline. */
async function user(baseUrl: string, wallet: DevAccount, robots: string[], deadline: number, tally: Tally) {
  while (Date.now() < deadline) {
    const robot = robots[Math.floor(Math.random() * robots.length)] ?? "";
    const client = new Robo402Client({ baseUrl, privateKey: wallet.privateKey });
    try {
      await tally.time("status", () => client.robot(robot));
      await tally.time("buy", () => client.buy(robot));
    } catch (error) {
      if (error instanceof Robo402Error && error.status === 409) tally.refused++;
      else tally.error("buy", error);
      await pause(jitter(200, 600));
      continue;
    }
    const token = client.token ?? "";
    for (const command of ["forward", "left", "right", "back", "stop"] as const) {
      await tally.time("drive", () => client.drive(command)).catch((error) => tally.error("drive", error));
      await pause(jitter(100, 300));
    }
    await tally.time("frame", () => client.frame()).catch((error) => tally.error("frame", error));
    await tally
      .time("stream", () => watch(new URL("/api/v1/robot/camera/stream", baseUrl).toString(), token, 3))
      .catch((error) => tally.error("stream", error));
    await tally.time("release", () => client.release()).catch((error) => tally.error("release", error));
    await pause(jitter(100, 500));
  }
}

async function main(): Promise<number> {
  const settings = Settings.parse(process.env);
  const robots = Array.from({ length: settings.SOAK_ROBOTS }, (_, i) => `soak-tumbller-${i + 1}`);
  console.log(
    `soak: ${settings.SOAK_USERS} users, ${robots.length} robots, ${settings.SOAK_SECONDS} s, on the devchain`,
  );
  const chain = await startDevchain();
  const sims = await Promise.all(robots.map((name) => startRobotSim({ name })));
  const cluster = await startCluster(chain, sims, { instances: 1 });
  try {
    const server = cluster.servers[0];
    if (!server) throw new Error("the soak's server did not start");
    // Enough for a purchase every second for the whole run.
    const wallets = await fundedWallets(
      chain,
      settings.SOAK_USERS,
      BigInt(Math.ceil(settings.SOAK_SECONDS)) * 100_000n + 1_000_000n,
    );
    const tally = new Tally();
    const memoryAtStart = residentBytes(server.child.pid);
    const deadline = Date.now() + settings.SOAK_SECONDS * 1000;
    await Promise.all(wallets.map((wallet) => user(server.url, wallet, robots, deadline, tally)));
    const memoryAtEnd = residentBytes(server.child.pid);
    const alive = server.child.exitCode === null && server.child.signalCode === null;

    const audit = await auditLedger(cluster.databaseUrl, {
      rpcUrl: chain.rpcUrl,
      token: chain.token.address,
      payee: cluster.payee,
    });

    console.log("\noperation   count    p50 ms    p99 ms");
    for (const [operation, list] of tally.latencies) {
      const sorted = [...list].sort((a, b) => a - b);
      console.log(
        `${operation.padEnd(10)} ${String(sorted.length).padStart(6)} ${percentile(sorted, 50).toFixed(1).padStart(9)} ${percentile(sorted, 99).toFixed(1).padStart(9)}`,
      );
    }
    console.log(`\nbusy robot refusals (409): ${tally.refused}`);
    const errorCount = [...tally.errors.values()].reduce((sum, n) => sum + n, 0);
    console.log(`errors: ${errorCount}`);
    for (const [what, n] of tally.errors) console.log(`  ${n} × ${what}`);
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      memoryAtStart !== undefined && memoryAtEnd !== undefined
        ? `server memory (RSS): ${mb(memoryAtStart)} → ${mb(memoryAtEnd)} (${memoryAtEnd >= memoryAtStart ? "+" : "-"}${mb(Math.abs(memoryAtEnd - memoryAtStart))})`
        : "server memory: not measurable here (no /proc)",
    );
    console.log(
      `ledger: ${audit.granted} granted, ${audit.refundDue} refund due, ${audit.transfers} transfers to the payee on chain`,
    );
    const problems = [...audit.problems];
    if (audit.granted + audit.refundDue !== audit.transfers)
      problems.push(
        `${audit.transfers} transfers but ${audit.granted + audit.refundDue} settled ledger rows`,
      );
    if (!alive) problems.push("the server process died during the soak");
    for (const problem of problems) console.log(`INCONSISTENT: ${problem}`);
    console.log(problems.length === 0 ? "ledger consistent" : `${problems.length} inconsistencies`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await cluster.close();
    await Promise.all(sims.map((sim) => sim.close()));
    await chain.close();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
