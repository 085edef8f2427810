import { OpenAPIHono } from "@hono/zod-openapi";
import { HealthResponse } from "@robo402/protocol";
import { secureHeaders } from "hono/secure-headers";
import { timing } from "hono/timing";
import type { Logger } from "pino";
import type { ControlAuth } from "../access/identity.ts";
import type { PurchaseHandler } from "../access/routes.ts";
import type { Config } from "../config.ts";
import { bodyLimit } from "../http/body-limit.ts";
import { cors } from "../http/cors.ts";
import { docsRoutes } from "../http/docs.ts";
import { errorHandler } from "../http/errors.ts";
import { healthRoutes } from "../http/health.ts";
import type { Metrics } from "../http/metrics.ts";
import { requestContext } from "../http/request-context.ts";
import { WEB_DIST, webRoutes } from "../http/web.ts";
import type { RobotCatalog } from "../robots/catalog.ts";
import { type GuardSettings, guardRoutes } from "./guards.ts";
import type { Marketplace } from "./marketplace.ts";
import type { Payments } from "./payments.ts";
import type { Control } from "./robots.ts";
import { apiRoutes } from "./routes.ts";
import type { Stores } from "./stores.ts";

// The API takes small JSON bodies only; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES = 64 * 1024;
// A browser client reads these from a 402 or a paid answer (the plan's headers and x402's).
const EXPOSED_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "X-PAYMENT-RESPONSE",
  "X-Payment-Required",
  "X-Payment-Amount",
  "X-Payment-Currency",
  "X-Payment-Network",
  "X-Payment-Address",
  "X-Session-ID",
  "X-Payment-Memo",
  "Retry-After",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
];

/** Everything the routes serve, wired. */
export interface Served {
  readonly stores: Stores;
  readonly metrics: Metrics;
  readonly control: Control;
  readonly payments: Payments;
  readonly purchase: { readonly controlAuth: ControlAuth; readonly buy: PurchaseHandler };
  readonly catalog: RobotCatalog;
  readonly market: Marketplace;
}

/** The HTTP API, the API reference and the portals, behind the middleware every answer passes. */
export function httpApp(
  config: GuardSettings &
    Pick<Config, "CORS_ORIGINS" | "PAYMENT_ENABLED" | "SESSION_DURATION_MINUTES" | "SESSION_PRICE">,
  served: Served,
  logger: Logger,
): OpenAPIHono {
  const { stores, metrics, payments } = served;
  const app = new OpenAPIHono();
  app.onError(errorHandler(logger));
  app.notFound((c) => c.json({ detail: "Not Found" }, 404));
  app.use(requestContext(logger));
  // Server-Timing on every answer (total, and the paid path's stages), so where the time goes is visible.
  app.use(timing());
  app.use(metrics.middleware());
  app.use(secureHeaders());
  app.use(cors({ origins: config.CORS_ORIGINS, exposeHeaders: EXPOSED_HEADERS }));
  app.use(bodyLimit(MAX_BODY_BYTES));
  app.get("/health", (c) =>
    c.json(HealthResponse.parse({ status: "healthy", payment_enabled: config.PAYMENT_ENABLED })),
  );
  app.route("/", healthRoutes({ ...stores.readiness, ...payments.readiness }));
  app.route("/", metrics.routes());
  const limits = guardRoutes(app, config, stores.kv, served.market.accounts);
  apiRoutes(app, config, served, limits, logger);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "robo402", version: "0.1.0", description: "Pay robots over HTTP 402" },
  });
  app.route("/", docsRoutes());
  // Last: the portals answer only what no API route did.
  app.route("/", webRoutes(WEB_DIST));
  return app;
}
