/**
 * The paid row's baseline: a bare x402 route, `@x402/hono`'s paymentMiddleware in front of a handler that
 * answers a small JSON, with the platform's facilitator, chain, token, price and payee. Runs as its own
 * process, as the platform does, and prints `{"url": ...}` once listening.
 *
 * Env: FACILITATOR_URL, PAY_TO, ASSET (the token's address), PRICE (base units), NETWORK (CAIP-2; default
 * the devchain's EVM chain, or the local Solana's `solana:…` id).
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { Hono } from "hono";

const NETWORK = (process.env.NETWORK ?? "eip155:31337") as `${string}:${string}`;
const SOLANA = NETWORK.startsWith("solana:");

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`x402-bare: ${name} is required`);
  return value;
}

const resourceServer = new x402ResourceServer(
  new HTTPFacilitatorClient({ url: env("FACILITATOR_URL") }),
).register(NETWORK, SOLANA ? new ExactSvmScheme() : new ExactEvmScheme());

const app = new Hono();
app.use(
  paymentMiddleware(
    {
      "POST /purchase": {
        accepts: {
          scheme: "exact",
          network: NETWORK,
          payTo: env("PAY_TO"),
          price: {
            amount: env("PRICE"),
            asset: env("ASSET"),
            // EIP-3009 signs over the token's EIP-712 domain; an SPL transfer needs none.
            extra: SOLANA ? {} : { name: "USD Coin", version: "2" },
          },
          maxTimeoutSeconds: 120,
        },
        description: "a paid purchase, with nothing behind it",
        mimeType: "application/json",
      },
    },
    resourceServer,
  ),
);
app.post("/purchase", async (c) => {
  const { robot_host } = await c.req.json<{ robot_host?: string }>();
  return c.json({ status: "success", robot_host });
});

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${info.port}` }));
});

const stop = () => {
  server.close(() => process.exit(0));
  if ("closeAllConnections" in server) server.closeAllConnections();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
