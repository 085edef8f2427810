import type { Context } from "hono";
import { type PaidRoute, x402Route } from "../http/x402.ts";
import type { X402Payments } from "../payments/x402.ts";
import type { Caller } from "../robots/catalog.ts";
import type { CatalogRobot } from "../robots/catalog-store.ts";
import type { ExecuteService, Job } from "./service.ts";
import type { SessionCalls } from "./session-call.ts";

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
