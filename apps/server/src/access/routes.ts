import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  AccessConfigResponse,
  PurchaseRequest,
  PurchaseResponse,
  ReleaseResponse,
  SessionResponse,
  WalletAddress,
} from "@robo402/protocol";
import type { Context } from "hono";
import type { Logger } from "pino";
import { validationHook } from "../http/errors.ts";
import { errors, json } from "../http/openapi.ts";
import { type PaidRoute, x402Route } from "../http/x402.ts";
import { alreadyUsed, type Offer, type X402Payments } from "../payments/x402.ts";
import { Refusal } from "../refusal.ts";
import type { RobotEntry } from "../robots/controlled.ts";
import type { RobotGateway } from "../robots/gateway.ts";
import type { ControlAuth } from "./identity.ts";
import type { AccessService } from "./service.ts";
import type { AccessSession } from "./store.ts";
import { purchaseResource } from "./terms.ts";
import { walletKey } from "./wallet.ts";

export interface AccessRoutesOptions {
  readonly network: string | null;
  readonly payTo: string | null;
  readonly paymentEnabled: boolean;
  readonly sessionMinutes: number;
  readonly sessionPrice: string;
}

const WalletHeader = z.object({ "x-wallet-address": WalletAddress.optional() });

const purchase = createRoute({
  method: "post",
  path: "/purchase",
  summary: "Buy time on a robot",
  description:
    "Paid mode answers 402 with x402's PAYMENT-REQUIRED; retry with PAYMENT-SIGNATURE (or X-PAYMENT). Free mode needs X-Wallet-Address.",
  request: {
    headers: WalletHeader,
    body: { content: { "application/json": { schema: PurchaseRequest } }, required: true },
  },
  responses: {
    200: json(PurchaseResponse, "Access granted; the wallet is bound to the robot"),
    ...errors({
      400: "Malformed payment, or X-Wallet-Address is not the payer",
      402: "Payment required, or the payment was refused (the body says why)",
      404: "No robot of that name is registered",
      409: "Another wallet holds the robot",
      422: "A field is missing or malformed",
      503: "The robot does not answer",
    }),
  },
});

const status = createRoute({
  method: "get",
  path: "/status",
  summary: "The wallet's current session",
  request: { headers: WalletHeader },
  responses: {
    200: json(SessionResponse, "The session, or `active: false`"),
    ...errors({ 401: "Paid mode: no valid session token" }),
  },
});

const config = createRoute({
  method: "get",
  path: "/config",
  summary: "Price and duration of a session",
  responses: { 200: json(AccessConfigResponse, "Payment configuration") },
});

const release = createRoute({
  method: "post",
  path: "/release",
  summary: "End the wallet's session and stop its robot",
  request: { headers: WalletHeader },
  responses: {
    200: json(ReleaseResponse, "Released; the robot has been told to stop"),
    ...errors({ 401: "No wallet or session token given", 403: "The caller holds no robot" }),
  },
});

/** `/api/v1/access/*` of the first plan. */
export function accessRoutes(
  access: AccessService,
  auth: ControlAuth,
  buy: PurchaseHandler,
  options: AccessRoutesOptions,
) {
  return new OpenAPIHono({ defaultHook: validationHook })
    .openapi(purchase, async (c) => {
      const { robot_host } = c.req.valid("json");
      // The handler writes its own answer (a session, or x402's 402 with its headers).
      return (await buy(c, robot_host, c.req.valid("header")["x-wallet-address"])) as never;
    })
    .openapi(status, async (c) => c.json(access.describe(await auth.session(c)), 200))
    .openapi(config, (c) =>
      c.json(
        {
          payment_enabled: options.paymentEnabled,
          session_duration_minutes: options.sessionMinutes,
          session_price: options.paymentEnabled ? options.sessionPrice : null,
          network: options.network,
          pay_to: options.payTo,
        },
        200,
      ),
    )
    .openapi(release, async (c) => {
      const { session } = await auth.heldRobot(c);
      const ended = await access.release(session);
      return c.json({ status: "released" as const, robot_host: ended.robotId }, 200);
    });
}

/** How a purchase is made: one implementation per payment mode, chosen once in platform/payments.ts. */
export type PurchaseHandler = (
  c: Context,
  robotHost: string,
  claimedWallet: string | undefined,
) => Promise<Response>;

/** The plan's free mode: the wallet in X-Wallet-Address gets the robot, nothing is charged. */
export function freePurchase(access: AccessService): PurchaseHandler {
  return async (c, robotHost, claimedWallet) => {
    if (!claimedWallet) {
      return c.json(
        { detail: [{ type: "missing", loc: ["header", "x-wallet-address"], msg: "Field required" }] },
        422,
      );
    }
    return c.json(await access.purchase(claimedWallet, robotHost), 200);
  };
}

export type CrashPoint = "verify" | "lock" | "settle" | "session";

/**
 * Paid mode: verify the payment → hold the robot → settle → open the session, through the one x402
 * path. A robot that is busy or offline is found before settlement, so nobody pays for what they
 * cannot have; a settlement that fails lets the robot go. The session belongs to whoever signed the
 * payment.
 */
export function paidPurchase(
  access: AccessService,
  payments: X402Payments,
  robots: RobotGateway,
  /** What a session on this robot costs, who is paid, and how x402 describes it (its catalog listing). */
  termsFor: (robot: RobotEntry) => Omit<Offer, "resource">,
  logger: Logger,
  crashAfter?: CrashPoint,
): PurchaseHandler {
  // Test-only: dies at a chosen step, so a test can prove what a restart recovers.
  const crash = (point: CrashPoint) => {
    if (crashAfter !== point) return;
    logger.fatal({ point }, "ROBO402_CRASH_AFTER: killing the process");
    process.kill(process.pid, "SIGKILL");
  };

  const pay = x402Route(payments);
  return (c, robotHost, claimedWallet) => {
    const robot = robots.find(robotHost);
    // With a payment, whether the robot answers is asked while the facilitator verifies.
    let online: Promise<void> | undefined;
    const route: PaidRoute = {
      async offer(paid) {
        // Tell a buyer the robot is unavailable before asking for money.
        if (!paid) await access.assertAvailable(robot, { quote: true });
        else {
          online = access.assertOnline(robot);
          online.catch(() => {}); // awaited by the purchase; a payment refused first never asks
        }
        return { resource: purchaseResource(robot), ...termsFor(robot) };
      },
      async repeat(payment) {
        const repeated = payment.sessionId ? await access.reissue(payment.sessionId) : undefined;
        // What it bought has ended: the retry is an ordinary replay.
        if (!repeated) throw alreadyUsed(payment);
        return c.json(repeated, 200);
      },
    };
    return pay(c, route, async ({ payment }) => {
      crash("verify");
      if (claimedWallet && walletKey(claimedWallet) !== payment.payer) {
        throw new Refusal(
          "malformed",
          `X-Wallet-Address ${claimedWallet} is not the wallet that signed this payment (${payment.payer}).`,
        );
      }
      let held: AccessSession;
      try {
        await online;
        // Held by anyone, the payer included, is a 409 (the hold's unique index decides): a double click
        // must not buy the same time twice.
        held = await access.reserve(payment.payer, robot, payment.id);
      } catch (error) {
        // Should what follows the hold's commit fail (ending the sessions it replaced), the hold is let go.
        await access.abandonFor(payment.id);
        throw error;
      }
      crash("lock");
      return {
        sessionId: held.id,
        undo: () => access.abandon(held),
        async deliver(settled) {
          crash("settle");
          const granted = await access.activate(held, settled.txHash);
          if (!granted) {
            throw new Refusal(
              "conflict",
              `Robot '${robot.id}' was released before your payment settled; a refund is due.`,
            );
          }
          crash("session");
          return c.json(granted, 200);
        },
      };
    });
  };
}
