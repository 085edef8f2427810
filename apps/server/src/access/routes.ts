import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  AccessConfigResponse,
  PurchaseRequest,
  PurchaseResponse,
  ReleaseResponse,
  SessionResponse,
  WalletAddress,
} from "@robo402/protocol";
import { validationHook } from "../http/errors.ts";
import { errors, json } from "../http/openapi.ts";
import type { ControlAuth } from "./identity.ts";
import type { PurchaseHandler } from "./purchase-route.ts";
import type { AccessService } from "./service.ts";

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
