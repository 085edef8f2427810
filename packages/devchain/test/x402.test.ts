import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { Hono } from "hono";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devchain, startDevchain } from "../src/index.ts";

const PRICE = 100_000n;

let devchain: Devchain;
let server: ServerType;
let url: string;
beforeAll(async () => {
  devchain = await startDevchain();
  const { network, token } = devchain;
  const resourceServer = new x402ResourceServer(
    new HTTPFacilitatorClient({ url: devchain.facilitatorUrl }),
  ).register(network, new ExactEvmServerScheme());
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /report": {
          accepts: {
            scheme: "exact",
            network,
            payTo: payee(),
            price: {
              amount: PRICE.toString(),
              asset: token.address,
              extra: { name: token.name, version: token.version },
            },
          },
          description: "a paid report",
        },
      },
      resourceServer,
    ),
  );
  app.get("/report", (c) => c.json({ report: "all systems nominal" }));
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  url = `http://127.0.0.1:${port}/report`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await devchain?.close();
});

const payer = () => devchain.accounts[1] ?? expect.unreachable();
const payee = () => devchain.accounts[2]?.address ?? expect.unreachable();

/** A paying fetch for `payer`, which also records the payment header it sent so it can be replayed. */
function payingFetch(sentPayments: string[]) {
  const { token, network } = devchain;
  const client = x402Client.fromConfig({
    schemes: [{ network, client: new ExactEvmClientScheme(privateKeyToAccount(payer().privateKey)) }],
    // The test token is no asset x402 knows, so it must be allowed explicitly.
    spendControls: {
      allowedAssets: [{ network, asset: token.address, maxAmountPerPayment: PRICE.toString() }],
    },
  });
  const recordingFetch: typeof fetch = (input, init) => {
    const request = new Request(input, init);
    const payment = request.headers.get("PAYMENT-SIGNATURE");
    if (payment) sentPayments.push(payment);
    return fetch(request);
  };
  return wrapFetchWithPayment(recordingFetch, client);
}

describe("x402 against the devchain facilitator", () => {
  it("asks for payment, takes it on chain exactly once and refuses a replay", async () => {
    const unpaid = await fetch(url);
    expect(unpaid.status).toBe(402);
    const { accepts } = decodeJsonHeader<{ accepts: Record<string, unknown>[] }>(unpaid, "PAYMENT-REQUIRED");
    expect(accepts[0]).toMatchObject({
      scheme: "exact",
      network: "eip155:31337",
      amount: PRICE.toString(),
      asset: devchain.token.address,
      payTo: payee(),
    });

    const facilitator = devchain.accounts[9]?.address ?? expect.unreachable();
    const before = await balances(facilitator);
    const sentPayments: string[] = [];
    const paid = await payingFetch(sentPayments)(url);
    expect(paid.status).toBe(200);
    expect(await paid.json()).toEqual({ report: "all systems nominal" });
    const settlement = decodePaymentResponseHeader(paid.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(settlement).toMatchObject({ success: true, network: "eip155:31337", payer: payer().address });
    const receipt = await createPublicClient({
      chain: foundry,
      transport: http(devchain.rpcUrl),
    }).getTransactionReceipt({
      hash: settlement.transaction as `0x${string}`,
    });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(facilitator.toLowerCase());

    const after = await balances(facilitator);
    expect(after.payee - before.payee).toBe(PRICE);
    expect(before.payer - after.payer).toBe(PRICE);
    expect(after.facilitator).toBe(before.facilitator);

    expect(sentPayments).toHaveLength(1);
    const replay = await fetch(url, { headers: { "PAYMENT-SIGNATURE": sentPayments[0] ?? "" } });
    expect(replay.status).toBe(402);
    expect(decodeJsonHeader<{ error: string }>(replay, "PAYMENT-REQUIRED").error).toMatch(/^invalid_/);
    expect(await balances(facilitator)).toEqual(after);
  });
});

async function balances(facilitator: `0x${string}`) {
  const [payerBalance, payeeBalance, facilitatorBalance] = await Promise.all([
    devchain.balanceOf(payer().address),
    devchain.balanceOf(payee()),
    devchain.balanceOf(facilitator),
  ]);
  return { payer: payerBalance, payee: payeeBalance, facilitator: facilitatorBalance };
}

function decodeJsonHeader<T>(response: Response, name: string): T {
  const header = response.headers.get(name);
  expect(header).toBeTruthy();
  return JSON.parse(Buffer.from(header ?? "", "base64").toString()) as T;
}
