import { type PayerOptions, payingFetch } from "@robo402/client";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { generatePaymentId } from "@x402/extensions/payment-identifier";
import { type Figures, percentile } from "./measure.ts";

/** Something that sells an x402 purchase at POST `url` with a `{robot_host}` body. */
export interface PurchaseTarget {
  readonly url: string;
  /** The robot the `i`-th purchase of a phase asks for. */
  readonly robot: (phase: "latency" | "throughput", i: number) => string;
  /** Untimed, after each latency-phase purchase (the platform lets the robot go here). */
  readonly release?: (answer: unknown) => Promise<void>;
}

/** What pays: an EVM key or a Solana keypair (with its RPC). */
export type PayerKey = Pick<PayerOptions, "privateKey" | "solana">;

export interface PurchaseOptions {
  /** Keys that pay, in turn: one at a time for latency, all at once for throughput. */
  readonly payers: readonly PayerKey[];
  /** The price; a 402 asking for more is not paid. */
  readonly price: bigint;
  /** Timed sequential purchases per target, and the number of purchases of the throughput phase. */
  readonly purchases: number;
  /** Untimed purchases per target first. */
  readonly warmup: number;
  /** The two targets take turns in blocks of this many purchases, so drift hits both alike. */
  readonly block: number;
  /**
   * Payers paying at once for purchases/s (`purchases` of them in all); 0 leaves it out, and purchases/s
   * is then the sequential rate, 1000 / mean ms.
   */
  readonly parallel: number;
}

/**
 * A payer's `payingFetch`, how long its last purchase's two requests took (until their headers), and
 * the Server-Timing each answered with.
 */
interface Payer {
  readonly pay: ReturnType<typeof payingFetch>;
  readonly legs: number[];
  readonly serverTimings: string[];
}

function payer(key: PayerKey, price: bigint): Payer {
  const legs: number[] = [];
  const serverTimings: string[] = [];
  const timed: typeof fetch = async (input, init) => {
    const started = performance.now();
    const response = await fetch(input, init);
    legs.push(performance.now() - started);
    serverTimings.push(response.headers.get("server-timing") ?? "");
    return response;
  };
  return { pay: payingFetch({ ...key, maxAmount: price, fetch: timed }), legs, serverTimings };
}

/** `Server-Timing` as metric name → milliseconds (`verify;dur=3.1, settle;dur=12.0`). */
export function parseServerTiming(header: string): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const metric of header.split(",")) {
    const [name, ...params] = metric.trim().split(";");
    const duration = params.map((param) => /^dur=([\d.]+)$/.exec(param.trim())?.[1]).find(Boolean);
    if (name && duration) stages[name] = Number(duration);
  }
  return stages;
}

/** Medians (ms) of a purchase's parts: the 402, the client's own work (mostly signing), the paid request. */
export interface Legs {
  readonly unpaid: number;
  readonly client: number;
  readonly paid: number;
}

/**
 * One purchase round trip as a client makes it: the unpaid request and its 402, signing, the paid retry
 * (verify, settle, answer) and reading the answer. `payingFetch` is the SDK's, and like the SDK every
 * purchase carries a payment identifier (a server that does not declare the extension never sees it).
 */
async function purchase(target: PurchaseTarget, payer: Payer, robotHost: string) {
  const paymentId = generatePaymentId();
  const init = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ robot_host: robotHost }),
  };
  payer.legs.length = 0;
  payer.serverTimings.length = 0;
  const started = performance.now();
  const response = await payer.pay(target.url, init, { paymentId });
  const text = await response.text();
  const ms = performance.now() - started;
  const [unpaid = Number.NaN, paid = Number.NaN] = payer.legs;
  if (response.status !== 200 || !response.headers.get("payment-response")) {
    // x402 v2 gives the reason for a refused payment in a header, not in the body.
    const required = response.headers.get("payment-required");
    const settled = response.headers.get("payment-response");
    const reason = required
      ? (decodePaymentRequiredHeader(required).error ?? "")
      : settled
        ? JSON.stringify(decodePaymentResponseHeader(settled))
        : "";
    throw new Error(
      `${target.url}: a paid purchase answered ${response.status} ${reason} ${text.slice(0, 300)}`,
    );
  }
  return {
    ms,
    legs: { unpaid, paid, client: ms - unpaid - paid },
    stages: parseServerTiming(payer.serverTimings[1] ?? ""),
    answer: JSON.parse(text) as unknown,
  };
}

/** Sequential latency (alternating blocks), then, if asked, purchases/s with several payers at once. */
export async function measurePurchases(
  subject: PurchaseTarget,
  baseline: PurchaseTarget,
  options: PurchaseOptions,
): Promise<{
  subject: Figures;
  baseline: Figures;
  subjectLegs: Legs;
  baselineLegs: Legs;
  /**
   * Medians (ms) of the platform's paid request by Server-Timing stage, and `outside`: its answer less the
   * wait on the facilitator (the bare route reports none).
   */
  subjectStages: Record<string, number>;
  purchases: number;
}> {
  const payers = options.payers.map((key) => payer(key, options.price));
  const runs = [baseline, subject].map((target) => ({
    target,
    next: 0,
    latencies: [] as number[],
    legs: [] as Legs[],
    stages: [] as Array<Record<string, number>>,
  }));
  let made = 0;

  const sequential = async (run: (typeof runs)[number], count: number, timed: boolean) => {
    for (let n = 0; n < count; n++) {
      const i = run.next++;
      const { ms, legs, stages, answer } = await purchase(
        run.target,
        payers[i % payers.length] as Payer,
        run.target.robot("latency", i),
      );
      made++;
      if (timed) {
        run.latencies.push(ms);
        run.legs.push(legs);
        run.stages.push(stages);
      }
      await run.target.release?.(answer);
    }
  };

  // Payments each take a transaction on the chain, so every warm-up round trip is a whole purchase too.
  for (const run of runs) await sequential(run, options.warmup, false);
  while (runs.some((run) => run.latencies.length < options.purchases)) {
    for (const run of runs) {
      await sequential(run, Math.min(options.block, options.purchases - run.latencies.length), true);
    }
  }

  const throughput = async (target: PurchaseTarget) => {
    let next = 0;
    const started = performance.now();
    // One worker per payer, so a wallet never has two purchases in flight.
    await Promise.all(
      payers.slice(0, options.parallel).map(async (payer) => {
        for (let i = next++; i < options.purchases; i = next++) {
          await purchase(target, payer, target.robot("throughput", i));
          made++;
        }
      }),
    );
    return options.purchases / ((performance.now() - started) / 1000);
  };
  const [baselineRun, subjectRun] = runs as [(typeof runs)[number], (typeof runs)[number]];
  const sequentialRate = (latencies: number[]) =>
    (1000 * latencies.length) / latencies.reduce((sum, ms) => sum + ms, 0);
  const baselineRate =
    options.parallel > 0 ? await throughput(baseline) : sequentialRate(baselineRun.latencies);
  const subjectRate = options.parallel > 0 ? await throughput(subject) : sequentialRate(subjectRun.latencies);

  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const figures = (latencies: number[], rps: number): Figures => {
    const ordered = sorted(latencies);
    return { p50: percentile(ordered, 0.5), p99: percentile(ordered, 0.99), rps };
  };
  const median = (values: number[]) => percentile(sorted(values), 0.5);
  const medianLegs = (legs: Legs[]): Legs => ({
    unpaid: median(legs.map((leg) => leg.unpaid)),
    client: median(legs.map((leg) => leg.client)),
    paid: median(legs.map((leg) => leg.paid)),
  });
  // Per request, what the platform's own work took: its whole answer less the wait on the facilitator.
  const stages = subjectRun.stages.map((stages) => ({
    ...stages,
    outside: (stages.total ?? 0) - (stages.facilitator ?? 0),
  }));
  const names = [...new Set(stages.flatMap((each) => Object.keys(each)))];
  const subjectStages = Object.fromEntries(
    names.map((name) => [name, median(stages.map((each) => each[name as keyof typeof each] ?? 0))]),
  );
  return {
    subjectStages,
    baseline: figures(baselineRun.latencies, baselineRate),
    subject: figures(subjectRun.latencies, subjectRate),
    baselineLegs: medianLegs(baselineRun.legs),
    subjectLegs: medianLegs(subjectRun.legs),
    purchases: made,
  };
}
