import autocannon from "autocannon";
import { request } from "undici";

export interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
}

export interface Target {
  readonly url: string;
  readonly headers?: Record<string, string>;
}

const WARMUP = 200;

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Latency of one request at a time (ms), then throughput with `connections` in parallel. */
export async function measure(
  target: Target,
  options: { samples: number; seconds: number; connections: number },
) {
  const latencies: number[] = [];
  for (let i = 0; i < options.samples + WARMUP; i++) {
    const started = performance.now();
    const response = await request(target.url, { headers: target.headers });
    await response.body.arrayBuffer();
    if (response.statusCode !== 200) throw new Error(`${target.url} answered ${response.statusCode}`);
    // The first requests warm up the JIT on both sides; they are not counted.
    if (i >= WARMUP) latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  const load = await autocannon({
    url: target.url,
    headers: target.headers,
    connections: options.connections,
    duration: options.seconds,
  });
  if (load.non2xx > 0 || load.errors > 0) {
    throw new Error(`${target.url}: ${load.non2xx} non-2xx answers and ${load.errors} errors under load`);
  }
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    rps: load.requests.average,
  } satisfies Figures;
}
