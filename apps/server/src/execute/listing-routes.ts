import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import {
  ExecutionListQuery,
  ExecutionListResponse,
  PaymentListQuery,
  PaymentListResponse,
} from "@robo402/protocol";
import { type AuthEnv, signedIn } from "../auth/middleware.ts";
import { validationHook } from "../http/errors.ts";
import { bearer, errors, json } from "../http/openapi.ts";
import { Refusal } from "../refusal.ts";
import type { Caller, RobotCatalog } from "../robots/catalog.ts";
import { executionJson, paymentJson } from "./json.ts";
import type { ExecuteService } from "./service.ts";

type Scoped = { scope: "mine" | "owned" | "all"; robot_id?: string; user_id?: string };

const listErrors = errors({
  401: "Not logged in",
  403: "scope=owned needs a robot owner or admin, scope=all an admin",
});

// The second plan's path and fields, kept for its clients: what it lists are call quotes (CallQuote).
const payments = createRoute({
  method: "get",
  path: "/payments",
  summary: "Payment sessions: the caller's own, those to the caller's robots (owned), or all (admins)",
  security: bearer,
  request: { query: PaymentListQuery },
  responses: { 200: json(PaymentListResponse, "Newest first"), ...listErrors },
});

const executions = createRoute({
  method: "get",
  path: "/executions",
  summary: "Executions: the caller's own, those of the caller's robots (owned), or all (admins)",
  security: bearer,
  request: { query: ExecutionListQuery },
  responses: { 200: json(ExecutionListResponse, "Newest first"), ...listErrors },
});

/**
 * Who may see which payments and executions: anyone their own, an owner those of their robots (and no
 * other's), an admin everything. Mounted at `/api` for people and at `/api/admin` (scope `all` by default).
 */
export function listingRoutes(service: ExecuteService, catalog: RobotCatalog, admin = false) {
  const scopeOf = <Q extends Scoped>(query: Q) => (admin ? { ...query, scope: "all" as const } : query);
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(payments, async (c) => {
      const query = scopeOf(c.req.valid("query"));
      const filter = await restrict(query, signedIn(c), catalog);
      const rows = await service.sessions({
        ...filter,
        status: query.status,
        limit: query.limit,
        offset: query.offset,
      });
      return c.json({ payments: rows.map(paymentJson) }, 200);
    })
    .openapi(executions, async (c) => {
      const query = scopeOf(c.req.valid("query"));
      const filter = await restrict(query, signedIn(c), catalog);
      const rows = await service.executions({
        ...filter,
        status: query.status,
        limit: query.limit,
        offset: query.offset,
      });
      return c.json({ executions: rows.map(executionJson) }, 200);
    });
}

/** The query narrowed to what `caller` may see. */
async function restrict(
  query: Scoped,
  caller: Caller,
  catalog: RobotCatalog,
): Promise<{ userId?: string; robotId?: string; robotIds?: string[] }> {
  if (query.scope === "all") {
    if (caller.role !== "admin")
      throw new Refusal("forbidden", "Insufficient permissions: scope=all requires admin.");
    return { userId: query.user_id, robotId: query.robot_id };
  }
  if (query.scope === "owned") {
    if (caller.role === "user")
      throw new Refusal("forbidden", "Insufficient permissions: scope=owned requires robot_owner or admin.");
    const owned = await catalog.list({ mine: true }, caller);
    return { userId: query.user_id, robotId: query.robot_id, robotIds: owned.map((robot) => robot.id) };
  }
  return { userId: caller.id, robotId: query.robot_id };
}
