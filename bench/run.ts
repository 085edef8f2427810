/**
 * `npm run bench`: each row measures the platform against a baseline run in the same process tree,
 * one after the other, and reports the ratio. These machines are noisy; read the ratios, not the
 * absolute times.
 *
 * Rows:
 * - motor command: the platform's /api/v1/robot/motor/forward against the robot-sim's own endpoint.
 * - paid purchase: the whole x402 round trip (402 → sign → verify → settle → session) on a devchain,
 *   against the same round trip through a bare `@x402/hono` paymentMiddleware route; once on the EVM
 *   chain (anvil, EIP-3009) and once on the local Solana (litesvm, an SPL transfer the facilitator co-signs).
 * - session check: the motor route's session and lock lookup with the session cache, against a database
 *   read per call (session-check.ts).
 * - camera fan-out: fps to 1, 10 and 100 stream viewers and the camera board's requests, against one
 *   poller straight to the camera board (camera.ts).
 * - scale: the motor command's p50/p99 with 1 → 1,000 robots and 1 → 500 sessions, against 1 and 1 (scale.ts).
 * - stop latency: from the dead-man's deadline and from a release to the stop at the robot (stop-latency.ts).
 * - velocity stream: 10 Hz × 100 rovers straight to robot-sim's rovers and through the platform (velocity.ts).
 *
 * The output goes to bench/RESULTS.md too, above the previous runs (results.ts).
 *
 * Every child (servers, robot-sims, the devchain with anvil) is stopped at the end, on error and on
 * Ctrl-C too; each also ends itself should the bench die (orphan-guard.mjs).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Address, createSolanaRpc } from "@solana/kit";
import { findAssociatedTokenPda, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { createPublicClient, erc20Abi, http } from "viem";
import { startServer } from "../e2e/harness.ts";
import { measureCameraFanout } from "./camera.ts";
import { linkTable, measureLink } from "./link.ts";
import { type Figures, measure } from "./measure.ts";
import {
  Cleanup,
  ORPHAN_GUARD,
  readyMessage,
  type SimProcess,
  spawnTs,
  startSimProcess,
  stopChild,
} from "./processes.ts";
import { type Legs, measurePurchases, type PayerKey, type PurchaseTarget } from "./purchase.ts";
import { machine, recordRun } from "./results.ts";
import { measureScale } from "./scale.ts";
import { measureSessionChecks } from "./session-check.ts";
import { measureDroppedLinkStops, measureStopLatency, type StopLatency, stopTable } from "./stop-latency.ts";
import { cameraTable, scaleTable, sessionCheckTable } from "./tables.ts";
import { measureVelocityStream, velocityTable } from "./velocity.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 8;
const WALLET = "0xbe4c000000000000000000000000000000000001";

/** Timed purchases per side, one at a time (and as many again with BENCH_PARALLEL_PURCHASES payers at once). */
const PURCHASES = Number(process.env.BENCH_PURCHASES ?? 60);
const PURCHASE_WARMUP = 10;
const PURCHASE_BLOCK = 10;
/** Robots the sequential purchases rotate over, so each purchase asks a robot whose /info is not cached. */
const LATENCY_ROBOTS = 40;
const PRICE = 100_000n; // $0.10 of the 6-decimal test USDC, the platform's default SESSION_PRICE
const PURCHASE_TARGET = 1.2;
/**
 * Payers buying at once for purchases/s. Off (0) by default: on the devchain, settlements that overlap
 * race for the facilitator account's nonce in anvil and fail ("replacement transaction underpriced"),
 * so purchases/s is the sequential rate until that is fixed.
 */
const PARALLEL = Math.min(8, Number(process.env.BENCH_PARALLEL_PURCHASES ?? 0));
/** Devchain accounts 0..7 pay; 8 is the payee; 9 signs the facilitator's settlements. */
const PAYERS = [0, 1, 2, 3, 4, 5, 6, 7];
const PAYEE = 8;

/** Turns each side of the session check takes, and how long each turn lasts. */
const SESSION_ROUNDS = 4;
const SESSION_ROUND_MS = Number(process.env.BENCH_SESSION_ROUND_MS ?? 500);
const CAMERA_VIEWERS = [1, 10, 100];
const CAMERA_SECONDS = Number(process.env.BENCH_CAMERA_SECONDS ?? 5);
const CAMERA_INTERVAL_MS = 105; // the platform's default CAMERA_INTERVAL_MS
/** What a viewer should get from a camera whose firmware allows 10 frames a second. */
const CAMERA_FPS_TARGET = 9;
/** BENCH_ONLY=camera runs the camera fan-out rows alone. */
const ONLY_CAMERA = process.env.BENCH_ONLY === "camera";
const SCALE_ROBOTS = [1, 100, 1000];
const SCALE_SESSIONS = [10, 100, 500];
const SCALE_SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 2000);
const RESULTS = new URL("./RESULTS.md", import.meta.url);
/** BENCH_ONLY=purchase runs the paid purchase rows alone (a quick look at the money path); default all. */
const ONLY_PURCHASES = process.env.BENCH_ONLY === "purchase";
/** BENCH_ONLY=stop runs the stop latency row alone. */
const ONLY_STOP = process.env.BENCH_ONLY === "stop";
/** BENCH_ONLY=link runs the robot link's rows alone. */
const ONLY_LINK = process.env.BENCH_ONLY === "link";
const LINK_OPTIONS = { samples: 1000, viewers: 100, seconds: 5 };
/** BENCH_ONLY=velocity runs the velocity stream row alone. */
const ONLY_VELOCITY = process.env.BENCH_ONLY === "velocity";
const VELOCITY_OPTIONS = { robots: 100, hz: 10, seconds: Number(process.env.BENCH_VELOCITY_SECONDS ?? 5) };
const STOP_SAMPLES = Number(process.env.BENCH_STOP_SAMPLES ?? 50);
const STOP_P99_TARGET_MS = 250;
const UNPAID_TARGET = 1.5;
const P99_TARGET = 1.5;

interface DevchainInfo {
  rpcUrl: string;
  facilitatorUrl: string;
  token: { address: `0x${string}` };
  accounts: Array<{ address: `0x${string}`; privateKey: `0x${string}` }>;
  solana: {
    rpcUrl: string;
    network: string;
    mint: string;
    accounts: Array<{ address: string; secretKey: string }>;
  };
}

/** One chain the paid purchase row runs on: the platform's and the bare route's settings, payers, payee. */
interface PaidChain {
  readonly name: string;
  readonly serverEnv: Record<string, string>;
  readonly bareEnv: Record<string, string>;
  readonly payers: readonly PayerKey[];
  /** The payee's balance of the test USDC, in base units. */
  readonly received: () => Promise<bigint>;
}

function evmSide(chain: DevchainInfo): PaidChain {
  const account = (i: number) => chain.accounts[i] ?? raise(`devchain account ${i} is missing`);
  const payee = account(PAYEE).address;
  const reader = createPublicClient({ transport: http(chain.rpcUrl) });
  return {
    name: "paid purchase round trip",
    serverEnv: { X402_NETWORK: "local", EVM_RPC_URL: chain.rpcUrl, PAYMENT_ADDRESS: payee },
    bareEnv: { PAY_TO: payee, ASSET: chain.token.address },
    payers: PAYERS.map((i) => ({ privateKey: account(i).privateKey })),
    received: () =>
      reader.readContract({
        address: chain.token.address,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [payee],
      }),
  };
}

function solanaSide(chain: DevchainInfo): PaidChain {
  const { solana } = chain;
  const account = (i: number) => solana.accounts[i] ?? raise(`devchain Solana keypair ${i} is missing`);
  const payee = account(PAYEE).address;
  const rpc = createSolanaRpc(solana.rpcUrl);
  return {
    name: "paid purchase round trip on Solana",
    serverEnv: {
      X402_NETWORK: "solana-local",
      SOLANA_RPC_URL: solana.rpcUrl,
      SOLANA_USDC_MINT: solana.mint,
      SOLANA_PAYMENT_ADDRESS: payee,
    },
    bareEnv: { PAY_TO: payee, ASSET: solana.mint, NETWORK: solana.network },
    payers: PAYERS.map((i) => ({ solana: { secretKey: account(i).secretKey, rpcUrl: solana.rpcUrl } })),
    received: async () => {
      const [ata] = await findAssociatedTokenPda({
        owner: payee as Address,
        mint: solana.mint as Address,
        tokenProgram: TOKEN_PROGRAM_ADDRESS,
      });
      const { value } = await rpc.getAccountInfo(ata, { encoding: "base64" }).send();
      // An SPL token account: mint (32 bytes), owner (32), then the amount (u64, little-endian).
      return value ? Buffer.from(value.data[0], "base64").readBigUInt64LE(64) : 0n;
    },
  };
}

const ms = (value: number) => value.toFixed(2);
const rate = (value: number) => value.toFixed(value < 100 ? 1 : 0);

function row(name: string, subject: Figures, baseline: Figures): string {
  return [
    name,
    `${ms(subject.p50)} / ${ms(subject.p99)}`,
    rate(subject.rps),
    `${ms(baseline.p50)} / ${ms(baseline.p99)}`,
    rate(baseline.rps),
    (subject.p50 / baseline.p50).toFixed(2),
    `${ms(subject.p50 - baseline.p50)} ms`,
    (subject.rps / baseline.rps).toFixed(2),
  ].join(" | ");
}

/** The platform in free mode relaying a motor command, against the robot-sim answering it directly. */
async function motorRow(cleanup: Cleanup, sim: SimProcess, name: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-"));
  cleanup.add("the motor row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(
    {
      SIMULATED_ROBOTS: "",
      ROBOTS: JSON.stringify([{ host: name, motor_url: sim.motorUrl, camera_url: sim.cameraUrl }]),
      DATA_DIR: dataDir,
      SESSION_DURATION_MINUTES: "60",
      // Free mode (X-Wallet-Address): this row is about relaying commands, and paid mode is the default.
      PAYMENT_ENABLED: "false",
    },
    ORPHAN_GUARD,
  );
  cleanup.add("the free-mode server", () => stopChild(server.child));

  const bought = await fetch(`${server.url}/api/v1/access/purchase`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-wallet-address": WALLET },
    body: JSON.stringify({ robot_host: name }),
  });
  if (!bought.ok) throw new Error(`purchase failed: ${bought.status} ${await bought.text()}`);

  const options = { samples: SAMPLES, seconds: SECONDS, connections: CONNECTIONS };
  const direct = await measure({ url: `${sim.motorUrl}/motor/forward` }, options);
  const platform = await measure(
    { url: `${server.url}/api/v1/robot/motor/forward`, headers: { "x-wallet-address": WALLET } },
    options,
  );
  // Done with it: the next row gets the CPU to itself.
  await stopChild(server.child);
  return row("motor command (baseline: straight to robot-sim)", platform, direct);
}

/**
 * The platform in paid mode selling a session, against a bare x402 route: same devchain, facilitator,
 * token, price, payee, payers and client code; each server in its own process; the client here.
 */
async function purchaseRow(cleanup: Cleanup, sims: SimProcess[], chain: DevchainInfo, side: PaidChain) {
  const bareChild = spawnTs(new URL("./x402-bare.ts", import.meta.url), {
    FACILITATOR_URL: chain.facilitatorUrl,
    PRICE: PRICE.toString(),
    ...side.bareEnv,
  });
  cleanup.add("the bare x402 server", () => stopChild(bareChild));

  // Many names, few sims: the registry needs distinct robots, and any robot-sim answers /info for them.
  const hosts = Array.from(
    { length: LATENCY_ROBOTS + (PARALLEL > 0 ? PURCHASES : 0) },
    (_, i) => `bench-paid-${i}`,
  );
  const robots = hosts.map((host, i) => {
    const sim = sims[i % sims.length] as SimProcess;
    return { host, motor_url: sim.motorUrl, camera_url: sim.cameraUrl };
  });
  const dataDir = mkdtempSync(join(tmpdir(), "robo402-bench-paid-"));
  cleanup.add("the paid row's data", async () => rmSync(dataDir, { recursive: true, force: true }));
  const [bare, server] = await Promise.all([
    readyMessage<{ url: string }>(bareChild, "the bare x402 server"),
    startServer(
      {
        SIMULATED_ROBOTS: "",
        ROBOTS: JSON.stringify(robots),
        DATA_DIR: dataDir,
        SESSION_DURATION_MINUTES: "60",
        SESSION_PRICE: "$0.10",
        PAYMENT_ENABLED: "true",
        FACILITATOR_URL: chain.facilitatorUrl,
        ...side.serverEnv,
      },
      ORPHAN_GUARD,
    ),
  ]);
  cleanup.add("the paid-mode server", () => stopChild(server.child));

  const platform: PurchaseTarget = {
    url: `${server.url}/api/v1/access/purchase`,
    // Sequential purchases rotate over the first robots, releasing each after; the parallel ones each
    // take a robot of their own (a payer's next purchase frees its previous robot, as the platform does).
    robot: (phase, i) =>
      (phase === "latency" ? hosts[i % LATENCY_ROBOTS] : hosts[LATENCY_ROBOTS + i]) as string,
    release: async (answer) => {
      const token = (answer as { session?: { token?: string } }).session?.token;
      if (!token)
        throw new Error(`the platform's purchase answer has no session token: ${JSON.stringify(answer)}`);
      const released = await fetch(`${server.url}/api/v1/access/release`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await released.text();
      if (!released.ok) throw new Error(`release answered ${released.status} ${text}`);
    },
  };
  const baseline: PurchaseTarget = { url: `${bare.url}/purchase`, robot: () => "bench-paid-0" };

  const before = await side.received();
  const result = await measurePurchases(platform, baseline, {
    payers: side.payers,
    price: PRICE,
    purchases: PURCHASES,
    warmup: PURCHASE_WARMUP,
    block: PURCHASE_BLOCK,
    parallel: PARALLEL,
  });
  // Every purchase answered 200 with a PAYMENT-RESPONSE; the payee proves each was settled, and once.
  const received = (await side.received()) - before;
  if (received !== PRICE * BigInt(result.purchases)) {
    throw new Error(
      `${side.name}: the payee received ${received} for ${result.purchases} purchases of ${PRICE}`,
    );
  }
  // Done with them: the next row gets the CPU to itself.
  await Promise.all([stopChild(server.child), stopChild(bareChild)]);
  return {
    ...result,
    name: side.name,
    line: row(
      `${side.name} (402 → sign → verify → settle → session; baseline: bare @x402/hono paymentMiddleware)`,
      result.subject,
      result.baseline,
    ),
  };
}

type PurchaseRow = Awaited<ReturnType<typeof purchaseRow>>;

/** The paid purchase rows, their ratios against the targets, and where the time goes (the parts). */
function purchaseTables(
  say: (line?: string) => void,
  purchases: PurchaseRow,
  solanaPurchases: PurchaseRow,
  motor?: string,
): void {
  say(
    `paid purchases — ${PURCHASES} sequential per side after ${PURCHASE_WARMUP} to warm up (in turns of ${PURCHASE_BLOCK}), ${PARALLEL > 0 ? `then ${PURCHASES} with ${PARALLEL} payers at once for purchases/s` : "purchases/s sequential (1000 / mean ms)"}; ${purchases.purchases} settled on the EVM chain and ${solanaPurchases.purchases} on Solana, payee balances checked`,
  );
  say();
  say(
    "| row | platform p50 / p99 ms | platform req/s | baseline p50 / p99 ms | baseline req/s | p50 ratio | added p50 | req/s ratio |",
  );
  say("| --- | --- | --- | --- | --- | --- | --- | --- |");
  if (motor) say(`| ${motor} |`);
  say(`| ${purchases.line} |`);
  say(`| ${solanaPurchases.line} |`);
  say();
  const judged = (ratio: number, target: number) =>
    `${ratio.toFixed(2)}× (target ≤ ${target.toFixed(2)}×: ${ratio <= target ? "within" : "over"})`;
  for (const paid of [purchases, solanaPurchases]) {
    say(
      `${paid.name}: p50 ${judged(paid.subject.p50 / paid.baseline.p50, PURCHASE_TARGET)} the bare middleware, ` +
        `p99 ${judged(paid.subject.p99 / paid.baseline.p99, P99_TARGET)}, ` +
        `unpaid 402 p50 ${judged(paid.subjectLegs.unpaid / paid.baselineLegs.unpaid, UNPAID_TARGET)}, ` +
        `purchases/s ${(paid.subject.rps / paid.baseline.rps).toFixed(2)}× (req/s columns are purchases/s on this row)`,
    );
    const legs = (name: keyof Legs) => `${ms(paid.subjectLegs[name])} / ${ms(paid.baselineLegs[name])}`;
    say(
      `${paid.name}, p50 of its parts (platform / bare ms): unpaid request → 402 ${legs("unpaid")}, ` +
        `client (sign, read) ${legs("client")}, paid request (verify → settle → answer) ${legs("paid")}`,
    );
    const stage = (name: string) => ms(paid.subjectStages[name] ?? 0);
    say(
      `${paid.name}, the platform's paid request by stage (Server-Timing, p50 ms): offer ${stage("offer")}, ` +
        `verify ${stage("verify")}, work (hold the robot) ${stage("work")}, settle ${stage("settle")}, ` +
        `deliver (open the session) ${stage("deliver")}, granted ${stage("granted")}; of verify and settle, ` +
        `waiting on the facilitator ${stage("facilitator")} and the ledger's hooks ${stage("ledger")}; ` +
        `total ${stage("total")}, of which ${stage("outside")} outside the facilitator`,
    );
  }
}

function raise(message: string): never {
  throw new Error(message);
}

async function main(cleanup: Cleanup): Promise<void> {
  const started = performance.now();
  if (ONLY_CAMERA) return cameraOnly(cleanup, started);
  if (ONLY_STOP) return stopOnly(cleanup, started);
  if (ONLY_LINK) return linkOnly(started);
  if (ONLY_VELOCITY) return velocityOnly(cleanup, started);
  // In this process, before any child runs: it measures the platform's classes, not a server.
  const sessionChecks = ONLY_PURCHASES
    ? undefined
    : await measureSessionChecks({ rounds: SESSION_ROUNDS, roundMs: SESSION_ROUND_MS });
  const sims = await Promise.all(["bench-tumbller", "bench-tumbller-2"].map(startSimProcess));
  for (const sim of sims) cleanup.add("a robot-sim", () => stopChild(sim.child));

  const motor = ONLY_PURCHASES ? undefined : await motorRow(cleanup, sims[0] as SimProcess, "bench-tumbller");
  const devchainChild = spawnTs(new URL("./devchain-child.ts", import.meta.url));
  cleanup.add("the devchain", () => stopChild(devchainChild));
  const chain = await readyMessage<DevchainInfo>(devchainChild, "the devchain");
  const purchases = await purchaseRow(cleanup, sims, chain, evmSide(chain));
  const solanaPurchases = await purchaseRow(cleanup, sims, chain, solanaSide(chain));
  await stopChild(devchainChild);
  const lines: string[] = [];
  const say = (line = "") => {
    console.log(line);
    lines.push(line);
  };
  if (ONLY_PURCHASES) {
    purchaseTables(say, purchases, solanaPurchases);
    say(`bench (BENCH_ONLY=purchase) took ${((performance.now() - started) / 1000).toFixed(0)} s`);
    recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
    return;
  }
  const camera = await measureCamera(cleanup);
  const scaleSims = [
    ...sims,
    ...(await Promise.all(["bench-tumbller-3", "bench-tumbller-4"].map(startSimProcess))),
  ];
  for (const sim of scaleSims.slice(sims.length)) cleanup.add("a robot-sim", () => stopChild(sim.child));
  const scale = await measureScale(cleanup, scaleSims, {
    robots: SCALE_ROBOTS,
    sessions: SCALE_SESSIONS,
    samples: SCALE_SAMPLES,
  });

  say(
    `robo402 bench — ${SAMPLES} sequential samples for latency, ${CONNECTIONS} connections × ${SECONDS} s for req/s`,
  );
  purchaseTables(say, purchases, solanaPurchases, motor);
  say();
  say(
    `session check — ${SESSION_ROUNDS} turns of ${SESSION_ROUND_MS} ms per side, one call at a time, PGlite, in-process session cache`,
  );
  say();
  for (const line of sessionCheckTable(sessionChecks ?? raise("no session checks"))) say(line);
  say();
  for (const line of cameraTable(camera, CAMERA_FPS_TARGET)) say(line);
  say();
  say(
    `scale — ${SCALE_SAMPLES} motor commands per step, one at a time, the sessions' drivers taking turns; robots spread over ${scaleSims.length} robot-sims`,
  );
  say();
  for (const line of scaleTable(scale)) say(line);
  say();
  const stop = await measureStops(cleanup, sims[0] as SimProcess);
  for (const line of stopTable(stop, STOP_P99_TARGET_MS)) say(line);
  say();
  say(linkTable(await measureLink(LINK_OPTIONS)));
  say();
  for (const line of velocityTable(await measureVelocityStream(cleanup, VELOCITY_OPTIONS))) say(line);
  say();
  say(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
  console.log(`written to ${fileURLToPath(RESULTS)}`);
}

/** The stop row: from the dead-man and a release on an HTTP robot, then from a dropped link on a linked one. */
async function measureStops(cleanup: Cleanup, sim: SimProcess): Promise<StopLatency> {
  const stop = await measureStopLatency(cleanup, sim, "bench-tumbller", STOP_SAMPLES);
  return {
    ...stop,
    droppedLink: await measureDroppedLinkStops(cleanup, sim, "bench-link-stop", STOP_SAMPLES),
  };
}

async function stopOnly(cleanup: Cleanup, started: number): Promise<void> {
  const sim = await startSimProcess("bench-tumbller");
  cleanup.add("a robot-sim", () => stopChild(sim.child));
  const stop = await measureStops(cleanup, sim);
  const lines = [
    ...stopTable(stop, STOP_P99_TARGET_MS),
    "",
    `bench (BENCH_ONLY=stop) took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ];
  for (const line of lines) console.log(line);
  recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
}

async function linkOnly(started: number): Promise<void> {
  const lines = [
    linkTable(await measureLink(LINK_OPTIONS)),
    "",
    `bench (BENCH_ONLY=link) took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ];
  for (const line of lines) console.log(line);
  recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
}

async function velocityOnly(cleanup: Cleanup, started: number): Promise<void> {
  const lines = [
    ...velocityTable(await measureVelocityStream(cleanup, VELOCITY_OPTIONS)),
    "",
    `bench (BENCH_ONLY=velocity) took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ];
  for (const line of lines) console.log(line);
  recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
}

function measureCamera(cleanup: Cleanup) {
  return measureCameraFanout(cleanup, {
    viewers: CAMERA_VIEWERS,
    seconds: CAMERA_SECONDS,
    intervalMs: CAMERA_INTERVAL_MS,
  });
}

async function cameraOnly(cleanup: Cleanup, started: number): Promise<void> {
  const lines = [
    ...cameraTable(await measureCamera(cleanup), CAMERA_FPS_TARGET),
    "",
    `bench (BENCH_ONLY=camera) took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ];
  for (const line of lines) console.log(line);
  recordRun(fileURLToPath(RESULTS), machine(), lines.join("\n"));
}

const cleanup = new Cleanup();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping every child`);
    void cleanup.run().finally(() => process.exit(130));
  });
}
try {
  await main(cleanup);
} finally {
  await cleanup.run();
}
