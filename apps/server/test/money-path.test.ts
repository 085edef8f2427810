import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { appendPaymentIdentifierToExtensions, generatePaymentId } from "@x402/extensions/payment-identifier";
import { x402Client } from "@x402/fetch";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { payments } from "../src/db/schema.ts";
import { type Payment, PaymentLedger } from "../src/payments/ledger.ts";
import { PaymentRecovery } from "../src/payments/recovery.ts";
import { localChainEnv, startTestPlatform, type TestPlatform } from "./helpers.ts";

// The money path as an attacker and a crash meet it. Nothing about payment is mocked: anvil, the test
// USDC and the x402 facilitator are real. One test puts a proxy in front of the facilitator that loses
// its settlement answer (what a timeout or a dropped connection does), and forwards the settlement
// later: the only way to make a real settlement land late on purpose.
const ROBOTS = ["finland-tumbller-01", "finland-tumbller-02"];
const PRICE = 100_000n;

let chain: Devchain;
let t: TestPlatform;
beforeAll(async () => {
  chain = await startDevchain();
});
afterAll(async () => {
  await chain?.close();
});
afterEach(async () => {
  await t?.close();
});

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const payee = () => account(8).address;

const paidPlatform = (env: Record<string, string> = {}) =>
  startTestPlatform({
    robots: ROBOTS,
    env: {
      ...localChainEnv(chain, payee()),
      ...env,
    },
  });

function purchase(robot: string, payment?: PaymentPayload) {
  return t.request("/api/v1/access/purchase", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(payment ? { "payment-signature": encodePaymentSignatureHeader(payment) } : {}),
    },
    body: JSON.stringify({ robot_host: robot }),
  });
}

/** The server's 402 for `robot`, as a client receives it. */
async function required(robot: string): Promise<PaymentRequired> {
  const unpaid = await purchase(robot);
  expect(unpaid.status).toBe(402);
  return decodePaymentRequiredHeader(unpaid.headers.get("payment-required") ?? "");
}

/** A payment as @x402/evm's client signs it for the server's 402, optionally named (payment-identifier). */
async function pay(robot: string, i: number, paymentId?: string): Promise<PaymentPayload> {
  const offer = await required(robot);
  const accepted = offer.accepts[0] ?? expect.unreachable();
  if (paymentId && offer.extensions) appendPaymentIdentifierToExtensions(offer.extensions, paymentId);
  const client = x402Client.fromConfig({
    schemes: [
      { network: "eip155:*", client: new ExactEvmScheme(privateKeyToAccount(account(i).privateKey)) },
    ],
    spendControls: {
      allowedAssets: [
        { network: accepted.network, asset: accepted.asset, maxAmountPerPayment: accepted.amount },
      ],
    },
  });
  return client.createPaymentPayload(offer);
}

type Eip3009 = { authorization: { from: string; nonce: string }; signature: string };
const drive = (token: string) =>
  t.request("/api/v1/robot/motor/forward", { headers: { authorization: `Bearer ${token}` } });
const ledgerRow = async (nonce: string) =>
  (await t.platform.database.db.select().from(payments).where(eq(payments.nonce, nonce))).map(
    ({ status, payer }) => ({ status, payer }),
  );

describe("a payment header is its signer's, never the payer it claims", () => {
  it("a refused header claiming wallet V, then W's valid payment with the same nonce: V's session is untouched and W gets the session", async () => {
    t = await paidPlatform();
    const [v, w] = [account(1), account(2)];
    // V holds robot 1 with a paid session.
    const bought = await purchase(ROBOTS[0] as string, await pay(ROBOTS[0] as string, 1));
    expect(bought.status).toBe(200);
    const vToken = ((await bought.json()) as { session: { token: string } }).session.token;

    // An attacker takes W's signed payment for robot 2 and claims it comes from V: the signature is W's.
    const wPayment = await pay(ROBOTS[1] as string, 2);
    const signed = wPayment.payload as Eip3009;
    const forged = {
      ...wPayment,
      payload: { ...signed, authorization: { ...signed.authorization, from: v.address } },
    };
    const refused = await purchase(ROBOTS[1] as string, forged);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/^Payment refused: /);
    // Refused headers are counted, never written: nothing a later payment could inherit.
    expect(await ledgerRow(signed.authorization.nonce.toLowerCase())).toEqual([]);

    const wBalance = await chain.balanceOf(w.address);
    const granted = await purchase(ROBOTS[1] as string, wPayment);
    expect(granted.status).toBe(200);
    const wSession = (await granted.json()) as { session: { token: string; robot_host: string } };
    expect(wSession.session.robot_host).toBe(ROBOTS[1]);
    expect(await chain.balanceOf(w.address)).toBe(wBalance - PRICE);
    expect(await ledgerRow(signed.authorization.nonce.toLowerCase())).toEqual([
      { status: "granted", payer: w.address.toLowerCase() },
    ]);

    // V still drives robot 1; W drives robot 2.
    expect((await drive(vToken)).status).toBe(200);
    expect((await drive(wSession.session.token)).status).toBe(200);
    expect(t.sims[0]?.commands().at(-1)?.command).toBe("forward");
    const holders = await Promise.all(
      ROBOTS.map(async (robot) => (await t.platform.access.holder(t.platform.robots.find(robot)))?.wallet),
    );
    expect(holders).toEqual([v.address.toLowerCase(), w.address.toLowerCase()]);
  });
});

/**
 * A facilitator whose settlement answers are lost: `/settle` requests are held (the caller's connection
 * is cut, as a timeout would) until `release()` forwards them to the real facilitator.
 */
async function lossyFacilitator(
  target: string,
): Promise<{ url: string; release(): Promise<void>; close(): Promise<void> }> {
  const held: Array<{ path: string; headers: IncomingMessage["headers"]; body: Buffer }> = [];
  const forward = (method: string, path: string, headers: IncomingMessage["headers"], body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const url = new URL(path, target);
      const out = httpRequest(url, { method, headers: { ...headers, host: url.host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      out.on("error", reject);
      out.end(body);
    });
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.url?.endsWith("/settle")) {
      held.push({ path: req.url, headers: req.headers, body });
      req.socket.destroy();
      return;
    }
    const answer = await forward(req.method ?? "GET", req.url ?? "/", req.headers, body);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async release() {
      for (const settle of held.splice(0)) {
        const answer = await forward("POST", settle.path, settle.headers, settle.body);
        expect(answer.status).toBe(200);
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("a granted purchase's header, found later", () => {
  it("is no key to the session once its authorization lapsed: the same header is a replay (409) and the payer's token still drives", async () => {
    t = await paidPlatform();
    const robot = ROBOTS[0] as string;
    const payment = await pay(robot, 4, generatePaymentId());
    const bought = await purchase(robot, payment);
    expect(bought.status).toBe(200);
    const { session } = (await bought.json()) as { session: { token: string } };

    // Within the authorization's time, the same header is the payer's retry: the session again.
    const retried = await purchase(robot, payment);
    expect(retried.status).toBe(200);
    const { token } = ((await retried.json()) as { session: { token: string } }).session;
    expect((await drive(token)).status).toBe(200);

    // Later (here: its validBefore moved into the past), whoever holds the header gets nothing from it.
    const nonce = (payment.payload as Eip3009).authorization.nonce.toLowerCase();
    await t.platform.database.db
      .update(payments)
      .set({ validBefore: new Date(Date.now() - 1000) })
      .where(eq(payments.nonce, nonce));
    const found = await purchase(robot, payment);
    expect(found.status).toBe(409);
    expect(((await found.json()) as { detail: string }).detail).toMatch(/already used/);
    expect((await drive(token)).status).toBe(200);
    expect((await drive(session.token)).status).toBe(401); // the retry's token replaced the first one
  });
});

describe("a settlement whose answer was lost", () => {
  it("lands late: the ledger never says failed with money moved; recovery grants the session and the retry gets its token", async () => {
    const facilitator = await lossyFacilitator(chain.facilitatorUrl);
    try {
      t = await paidPlatform({ FACILITATOR_URL: facilitator.url, PAYMENT_RECOVERY_GRACE_MS: "0" });
      const robot = ROBOTS[0] as string;
      const buyer = account(3).address;
      const before = await chain.balanceOf(buyer);
      const paymentId = generatePaymentId();
      const payment = await pay(robot, 3, paymentId);
      const nonce = (payment.payload as Eip3009).authorization.nonce.toLowerCase();

      const lost = await purchase(robot, payment);
      expect(lost.status).toBe(503);
      expect(((await lost.json()) as { detail: string }).detail).toMatch(/did not confirm the settlement/);
      expect(await ledgerRow(nonce)).toEqual([{ status: "settling", payer: buyer.toLowerCase() }]);

      // Still valid and not on chain yet: recovery must not call it failed (it could still land).
      await t.platform.recoverPayments();
      expect(await ledgerRow(nonce)).toEqual([{ status: "settling", payer: buyer.toLowerCase() }]);
      // The robot stays held for the buyer meanwhile: nobody else can buy it.
      expect((await purchase(robot)).status).toBe(409);

      await facilitator.release();
      expect(await chain.balanceOf(buyer)).toBe(before - PRICE);
      await t.platform.recoverPayments();
      expect(await ledgerRow(nonce)).toEqual([{ status: "granted", payer: buyer.toLowerCase() }]);

      // The buyer retries with the same payment identifier: the session it paid for, and no second charge.
      const retried = await purchase(robot, payment);
      expect(retried.status).toBe(200);
      const { session } = (await retried.json()) as { session: { token: string; robot_host: string } };
      expect(session.robot_host).toBe(robot);
      expect((await drive(session.token)).status).toBe(200);
      expect(await chain.balanceOf(buyer)).toBe(before - PRICE);
    } finally {
      await facilitator.close();
    }
  });
});

describe("recovery decides each row once", () => {
  it("two recovery runs (two instances) over the same rows: each row is worked by one; an error stops one row; a granted row is never made refund_due", async () => {
    t = await paidPlatform();
    const ledger = new PaymentLedger(t.platform.database.db);
    const logger = pino({ level: "silent" });
    const row = async (i: number, status: "verified" | "settled") => {
      const opened = await ledger.open({
        network: "eip155:31337",
        scheme: "exact",
        asset: chain.token.address.toLowerCase(),
        payer: account(i % 8).address.toLowerCase(),
        payTo: payee().toLowerCase(),
        amount: PRICE.toString(),
        nonce: `0x${i.toString(16).padStart(64, "0")}`,
        resource: "access:test",
        paymentIdentifier: null,
        payload: "{}",
        validBefore: new Date(Date.now() - 1000),
      });
      if (!opened) throw new Error("row not opened");
      if (status === "settled") {
        await ledger.settling(opened.id, crypto.randomUUID());
        await ledger.settled(opened, `0x${(1000 + i).toString(16).padStart(64, "0")}`);
      }
      return opened;
    };
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => row(100 + i, i % 2 ? "settled" : "verified")),
    );

    // Recovery takes rows last touched before it began: let the clock move past the rows just written.
    const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
    await tick();
    const delivered: string[] = [];
    const dropped: string[] = [];
    const instance = () =>
      new PaymentRecovery(ledger, t.platform.networks, logger, { graceMs: 0, claimMs: 60_000 });
    const deliver = async (payment: Payment) => {
      delivered.push(payment.id);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { granted: payment.sessionId as string };
    };
    const drop = async (payment: Payment) => {
      dropped.push(payment.id);
    };
    await Promise.all([instance().run(deliver, drop), instance().run(deliver, drop)]);

    const settled = rows.filter((_, i) => i % 2).map((r) => r.id);
    const verified = rows.filter((_, i) => !(i % 2)).map((r) => r.id);
    expect(delivered.sort()).toEqual(settled.sort());
    expect(dropped.sort()).toEqual(verified.sort());
    const statuses = await t.platform.database.db.select().from(payments);
    for (const id of settled) expect(statuses.find((p) => p.id === id)?.status).toBe("granted");
    for (const id of verified) expect(statuses.find((p) => p.id === id)?.status).toBe("rejected");

    // One row whose delivery fails stops that row only: the others are decided, it is tried again.
    const more = await Promise.all([row(200, "settled"), row(201, "settled"), row(202, "settled")]);
    const failing = more[1]?.id;
    await tick();
    const flaky = async (payment: Payment) => {
      if (payment.id === failing) throw new Error("the session store is away");
      return { granted: payment.sessionId as string };
    };
    await instance().run(flaky, drop);
    const after = await t.platform.database.db.select().from(payments);
    expect(more.map((r) => after.find((p) => p.id === r.id)?.status)).toEqual([
      "granted",
      "settled",
      "granted",
    ]);
    await instance().run(deliver, drop);
    expect((await t.platform.database.db.select().from(payments)).find((p) => p.id === failing)?.status).toBe(
      "granted",
    );

    // A loser that still tries to call a granted payment refund_due changes nothing.
    expect(await ledger.refundDue(settled[0] as string, "late loser")).toBe(false);
    expect(
      (await ledger.find("eip155:31337", rows[1]?.asset ?? "", rows[1]?.payer ?? "", rows[1]?.nonce ?? ""))
        ?.status,
    ).toBe("granted");
  });
});
