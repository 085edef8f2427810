import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { createSolanaRpc, devnet } from "@solana/kit";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { ExactSvmScheme as ExactSvmClientScheme } from "@x402/svm/exact/client";
import { ExactSvmScheme as ExactSvmServerScheme } from "@x402/svm/exact/server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devchain, SOLANA_FUNDS_PER_ACCOUNT, startDevchain } from "../src/index.ts";

const PRICE = 100_000n;

let devchain: Devchain;
let server: ServerType;
let url: string;
beforeAll(async () => {
  devchain = await startDevchain();
  const { solana } = devchain;
  const resourceServer = new x402ResourceServer(
    new HTTPFacilitatorClient({ url: devchain.facilitatorUrl }),
  ).register(solana.network, new ExactSvmServerScheme());
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /report": {
          accepts: {
            scheme: "exact",
            network: solana.network,
            payTo: payee().address,
            price: { amount: PRICE.toString(), asset: solana.mint },
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

const payer = () => devchain.solana.accounts[1] ?? expect.unreachable();
const payee = () => devchain.solana.accounts[8] ?? expect.unreachable();

describe("the local Solana", () => {
  it("serves x402 exact on SVM end to end: the payer loses exactly the price, the payee gains it", async () => {
    const { runtime, network, mint, rpcUrl } = devchain.solana;
    const before = {
      payer: await runtime.balanceOf(payer().address),
      payee: await runtime.balanceOf(payee().address),
    };
    const client = x402Client.fromConfig({
      schemes: [{ network, client: new ExactSvmClientScheme(payer().signer, { rpcUrl }) }],
      spendControls: { allowedAssets: [{ network, asset: mint, maxAmountPerPayment: PRICE.toString() }] },
    });
    const response = await wrapFetchWithPayment(fetch, client)(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ report: "all systems nominal" });
    const settlement = decodePaymentResponseHeader(response.headers.get("payment-response") ?? "");
    expect(settlement).toMatchObject({ success: true, network, payer: payer().address });

    expect(await runtime.balanceOf(payer().address)).toBe(before.payer - PRICE);
    expect(await runtime.balanceOf(payee().address)).toBe(before.payee + PRICE);
    // The facilitator paid the fee: the payer's SOL is untouched.
    const rpc = createSolanaRpc(devnet(rpcUrl));
    const status = await rpc.getSignatureStatuses([settlement.transaction as never]).send();
    expect(status.value[0]).toMatchObject({ err: null, confirmationStatus: "finalized" });
  });

  it("funds ten keypairs with 10,000 USDC each and reads the mint over RPC as the x402 client does", async () => {
    const { runtime, mint, rpcUrl, accounts } = devchain.solana;
    expect(accounts).toHaveLength(10);
    expect(await runtime.balanceOf(accounts[3]?.address ?? expect.unreachable())).toBe(
      SOLANA_FUNDS_PER_ACCOUNT,
    );
    const rpc = createSolanaRpc(devnet(rpcUrl));
    const info = await rpc.getAccountInfo(mint as never, { encoding: "base64" }).send();
    expect(info.value?.owner).toBe("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    const missing = await rpc
      .getAccountInfo(accounts[0]?.address ?? expect.unreachable(), { encoding: "base64" })
      .send();
    expect(missing.value?.owner).toBe("11111111111111111111111111111111");
  });

  it("answers a method it does not serve with JSON-RPC's 'method not found'", async () => {
    const response = await fetch(devchain.solana.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getVoteAccounts", params: [] }),
    });
    expect(await response.json()).toMatchObject({ error: { code: -32601 } });
  });
});
