import { Hono } from "hono";

/** One thing the platform needs to serve: the database, Redis, the chain, the facilitator. */
export type ReadinessCheck = () => Promise<void>;

// A check that hangs is a failed check: readiness must answer fast for the load balancer.
const CHECK_TIMEOUT_MS = 2000;

/**
 * `/health/live`: the process answers (restart it if not). `/health/ready`: every dependency answers
 * (send it traffic if so); 503 names what failed. The plan's `/health` stays as it is, beside them.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck>) {
  return new Hono()
    .get("/health/live", (c) => c.json({ status: "alive" }, 200))
    .get("/health/ready", async (c) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => [name, await outcome(check)] as const),
      );
      const failed = results.filter(([, result]) => result !== "ok");
      const body = {
        status: failed.length ? "unavailable" : "ready",
        checks: Object.fromEntries(results),
        ...(failed.length && {
          detail: `Not ready: ${failed.map(([name, why]) => `${name} (${why})`).join(", ")}.`,
        }),
      };
      return c.json(body, failed.length ? 503 : 200);
    });
}

async function outcome(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return "ok";
  } catch (error) {
    return (error as Error).message || "failed";
  } finally {
    clearTimeout(timer);
  }
}
