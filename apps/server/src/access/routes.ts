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
import type { AccessService } from "./service.ts";

export interface AccessRoutesOptions {
  readonly paymentEnabled: boolean;
  readonly sessionMinutes: number;
  readonly sessionPrice: string;
}

const WalletHeader = z.object({ "x-wallet-address": WalletAddress });
const OptionalWalletHeader = z.object({ "x-wallet-address": WalletAddress.optional() });

const purchase = createRoute({
  method: "post",
  path: "/purchase",
  summary: "Buy time on a robot",
  request: {
    headers: WalletHeader,
    body: { content: { "application/json": { schema: PurchaseRequest } }, required: true },
  },
  responses: {
    200: json(PurchaseResponse, "Access granted; the wallet is bound to the robot"),
    ...errors({
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
  request: { headers: OptionalWalletHeader },
  responses: { 200: json(SessionResponse, "The session, or `active: false`") },
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
    ...errors({ 404: "The wallet holds no robot", 422: "Wallet header missing or malformed" }),
  },
});

/** `/api/v1/access/*` of the first plan. */
export function accessRoutes(access: AccessService, options: AccessRoutesOptions) {
  return new OpenAPIHono({ defaultHook: validationHook })
    .openapi(purchase, async (c) => {
      const { robot_host } = c.req.valid("json");
      const wallet = c.req.valid("header")["x-wallet-address"];
      return c.json(await access.purchase(wallet, robot_host), 200);
    })
    .openapi(status, async (c) => c.json(await access.status(c.req.valid("header")["x-wallet-address"]), 200))
    .openapi(config, (c) =>
      c.json(
        {
          payment_enabled: options.paymentEnabled,
          session_duration_minutes: options.sessionMinutes,
          session_price: options.paymentEnabled ? options.sessionPrice : null,
        },
        200,
      ),
    )
    .openapi(release, async (c) => {
      const session = await access.release(c.req.valid("header")["x-wallet-address"]);
      return c.json({ status: "released" as const, robot_host: session.robotId }, 200);
    });
}
