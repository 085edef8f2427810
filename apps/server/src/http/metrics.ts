import { Hono, type MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Facts only a domain knows, read when Prometheus scrapes (so every instance reports the shared truth). */
export interface MetricSources {
  /** Payments in the ledger by status (`granted`, `rejected`, `refund_due`…). */
  paymentsByStatus(): Promise<Array<{ status: string; count: number }>>;
  activeSessions(): Promise<number>;
  /** Each robot's motor (asked, cached a second) and camera (as last seen; undefined: not watched lately). */
  robotHealth(): Promise<Array<{ robot: string; motor: boolean; camera: boolean | undefined }>>;
}

/** The platform's Prometheus metrics: one registry per platform, so tests may run several in a process. */
export class Metrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: "robo402_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: "robo402_http_request_duration_seconds",
    help: "HTTP request latency by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #stops = new Counter({
    name: "robo402_robot_stops_total",
    help: "Stops sent to robots, by reason and outcome (confirmed, owed until the robot answers, owed_delivered)",
    labelNames: ["reason", "outcome"] as const,
    registers: [this.registry],
  });

  readonly #refusals = new Counter({
    name: "robo402_payment_refusals_total",
    help: "Payment headers refused before they became a ledger row, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  /** For the x402 path: a payment refused (malformed, not matching, invalid); it never reaches the ledger. */
  readonly countRefusal = (reason: string) => this.#refusals.inc({ reason });

  /** For MotionGuard: how each stop ended. */
  readonly countStop = (reason: string, outcome: string) => this.#stops.inc({ reason, outcome });

  constructor(sources: MetricSources) {
    new Gauge({
      name: "robo402_payments",
      help: "Payments in the ledger by status (the ledger is shared, so every instance reports all)",
      labelNames: ["status"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { status, count } of await sources.paymentsByStatus()) this.set({ status }, count);
      },
    });
    new Gauge({
      name: "robo402_active_sessions",
      help: "Time-based sessions holding a robot now",
      registers: [this.registry],
      async collect() {
        this.set(await sources.activeSessions());
      },
    });
    new Gauge({
      name: "robo402_robot_up",
      help: "Whether a robot's board answers (1) or not (0)",
      labelNames: ["robot", "board"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { robot, motor, camera } of await sources.robotHealth()) {
          this.set({ robot, board: "motor" }, motor ? 1 : 0);
          if (camera !== undefined) this.set({ robot, board: "camera" }, camera ? 1 : 0);
        }
      },
    });
  }

  /** Counts and times every request under its route's pattern (`/api/execute/:robot_id`), never its raw path. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        // After next(), the route index points at whatever answered; a catch-all answering is no route.
        const answered = routePath(c);
        const route = answered.endsWith("*") ? "unmatched" : answered;
        const labels = { method: c.req.method, route };
        this.#requests.inc({ ...labels, status: String(c.res.status) });
        this.#latency.observe(labels, (performance.now() - started) / 1000);
      }
    };
  }

  routes() {
    return new Hono().get("/metrics", async (c) =>
      c.body(await this.registry.metrics(), 200, { "content-type": this.registry.contentType }),
    );
  }
}
