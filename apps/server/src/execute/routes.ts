import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  ExecuteRequest,
  ExecuteResponse,
  PlanPaymentRequired,
  VerifyPaymentRequest,
  VerifyPaymentResponse,
} from "@robo402/protocol";
import { declareDiscoveryExtension } from "@x402/extensions/bazaar";
import type { Context, MiddlewareHandler } from "hono";
import type { AuthEnv } from "../auth/middleware.ts";
import { validationHook } from "../http/errors.ts";
import { errors, json } from "../http/openapi.ts";
import { type PaidRoute, x402Route } from "../http/x402.ts";
import type { X402Payments } from "../payments/x402.ts";
import type { Caller } from "../robots/catalog.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import type { ExecuteService, Job } from "./service.ts";
import type { SessionCalls } from "./session-call.ts";
import type { TransferPayments } from "./transfer-verify.ts";

const RobotId = z.object({ robot_id: z.uuid({ message: "must be a robot id (a UUID)" }) });

const execute = createRoute({
  method: "post",
  path: "/execute/{robot_id}",
  summary: "Run a robot's service, paid per call",
  description:
    "Without payment: 402 with a payment session (the plan's X-Payment-* headers and body) and x402's `accepts[]` (PAYMENT-REQUIRED). Pay either way: an x402 client retries with PAYMENT-SIGNATURE; a plan-style client transfers the amount, posts the transaction to /api/payments/verify and retries with X-Session-ID. The service runs before money moves: a failed call is not charged.",
  request: {
    params: RobotId,
    headers: z.object({
      "x-session-id": z.string().optional(),
      "payment-signature": z.string().optional(),
    }),
    // A plan-style payload without `input` is taken whole as the input.
    body: { content: { "application/json": { schema: ExecuteRequest } }, required: false },
  },
  responses: {
    200: json(ExecuteResponse, "The service's result"),
    402: json(PlanPaymentRequired, "Payment required (or refused, with `detail` saying why)"),
    ...errors({
      403: "The robot is suspended, or the session belongs to another account",
      404: "No such robot or payment session",
      409: "The robot is sold by time, or the session is used, in use or for another robot",
      422: "The robot does not sell that service",
      429: "Too many calls; see Retry-After",
      502: "The robot failed (not charged)",
      504: "The robot did not answer in time (not charged)",
    }),
  },
});

const verify = createRoute({
  method: "post",
  path: "/payments/verify",
  summary: "Check an on-chain transfer and mark its payment session paid",
  description:
    "The transfer must be confirmed, pay the session's recipient at least its amount in its asset, show which session it pays, and never have paid anything on the platform before. It shows its session by a memo equal to `session_id` (Solana), or on EVM by the session id's 16 bytes appended to the ERC-20 `transfer` calldata after its arguments, or by coming from the wallet linked (SIWE) to the session's account; neither is `unproven_payer`. A transfer proven only by the linked wallet must be mined after the session opened (`too_old`). A transfer that reached the recipient but paid nothing (unproven, too low, too old, session expired or already paid) is recorded for the robot's owner to refund.",
  request: { body: { content: { "application/json": { schema: VerifyPaymentRequest } }, required: true } },
  responses: {
    200: json(VerifyPaymentResponse, "Verified: the session is paid"),
    400: json(VerifyPaymentResponse, "Not verified, with the reason (`code` says which check failed)"),
    ...errors({ 404: "No such payment session" }),
  },
});

/** `/api/execute/*` and `/api/payments/verify`: the second plan's pay-per-call. */
export function executeRoutes(
  executions: ExecuteService,
  call: CallHandler,
  rateLimit: MiddlewareHandler,
  transfers: TransferPayments,
) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.use("/execute/*", rateLimit);
  return app
    .openapi(execute, async (c) => {
      const robot = await executions.callable(c.req.valid("param").robot_id);
      // A body is optional (a robot's first service with no input); when sent, it was validated above.
      const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
      const job = executions.job(robot, body);
      // The handler writes its own answer (the result, or the 402 with x402's and the plan's headers).
      return (await call(c, robot, job, c.var.user, discovery(robot))) as never;
    })
    .openapi(verify, async (c) => {
      const { session_id, tx_signature } = c.req.valid("json");
      const result = await transfers.verify(session_id, tx_signature);
      if (result.verified) return c.json(result, 200);
      return c.json({ ...result, detail: result.error }, 400);
    });
}

/** x402's bazaar extension: how an agent calls this robot, so discovery services can list it. */
function discovery(robot: CatalogRobot): Record<string, unknown> {
  return declareDiscoveryExtension({
    bodyType: "json",
    input: { service: robot.services[0], input: {} },
    inputSchema: {
      type: "object",
      properties: {
        service: { type: "string", enum: robot.services, description: "The service to run" },
        input: { description: "The service's input" },
      },
    },
    output: {
      example: { success: true, data: {}, service: robot.services[0], response_time: 120 },
      schema: z.toJSONSchema(ExecuteResponse, { io: "output", unrepresentable: "any" }) as Record<
        string,
        unknown
      >,
    },
  });
}

/** Answers one call, however it is paid: a session paid before (X-Session-ID), or x402 in this request. */
export type CallHandler = (
  c: Context,
  robot: CatalogRobot,
  job: Job,
  caller: Caller | undefined,
  extensions?: Record<string, unknown>,
) => Promise<Response>;

/** Free mode: every call runs, nothing is charged. */
export function freeCall(executions: ExecuteService): CallHandler {
  return async (c, robot, job, caller) => c.json(await executions.free(robot, job, caller), 200);
}

/**
 * Paid mode: the one x402 path, with the second plan's payment session beside it. Every 402 opens a
 * session (its id is the plan flow's memo, its headers the plan's); a payment is verified, the robot
 * runs, and only a call that succeeded is settled.
 */
export function paidCall(
  executions: ExecuteService,
  sessions: SessionCalls,
  payments: X402Payments,
): CallHandler {
  const pay = x402Route(payments);
  return async (c, robot, job, caller, extensions) => {
    const sessionId = c.req.header("x-session-id")?.trim();
    if (sessionId) {
      const session = await executions.session(sessionId);
      if (sessions.pays(session, robot, caller?.id))
        return c.json(await sessions.call(robot, job, session), 200);
    }
    const named = c.req.header("x-payment-network")?.trim() || undefined;
    const route: PaidRoute = {
      offer: async () => executions.offer(robot, extensions),
      async paymentRequired(_required, body, headers) {
        const session = await executions.openSession(robot, job, caller, { payer: null, named });
        const plan = executions.plan402(robot, session);
        return c.json({ ...body, ...plan.body }, 402, { ...headers, ...plan.headers });
      },
    };
    return pay(c, route, async ({ payment, network }) => {
      const session = await executions.openSession(robot, job, caller, { payer: payment.payer, network });
      const who = { userId: caller?.id ?? null, sessionId: session.id, charged: undefined };
      const outcome = await executions.run(robot, job);
      if (outcome.status !== "success")
        throw await executions.notCharged(robot, outcome, who, "You were not charged.");
      return {
        sessionId: session.id,
        // The robot worked but the money did not move: logged as done, earned nothing.
        undo: () => executions.uncharged(robot, outcome, who),
        async deliver(settled) {
          const body = await executions.charged(robot, job, session, outcome, {
            txHash: settled.txHash,
            payer: payment.payer,
            userId: who.userId,
          });
          return c.json(body, 200);
        },
      };
    });
  };
}
