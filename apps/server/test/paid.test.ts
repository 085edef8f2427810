import { Robo402Client, Robo402Error } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FAMILIES as MECHANISMS } from "../src/payments/families/index.ts";
import { PaymentLedger } from "../src/payments/ledger.ts";
import { X402Payments } from "../src/payments/x402.ts";
import { localChainEnv, startTestPlatform, type TestPlatform } from "./helpers.ts";

// Real chain: anvil with the test USDC and the x402 facilitator; nothing about payment is mocked.
const ROBOT = "finland-tumbller-01";
const PRICE = 100_000n; // $0.10 in 6-decimal test USDC

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

const paidPlatform = (env: Record<string, string> = {}, logs?: Array<Record<string, unknown>>) =>
  startTestPlatform({
    env: {
      ...localChainEnv(chain, payee()),
      ...env,
    },
    logs,
  });

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const payee = () => account(8).address;
/** A client that reaches the in-process platform and pays with account `i`; `watch` sees each exchange. */
const clientFor = (i: number, watch?: (request: Request, response: Response) => void) =>
  new Robo402Client({
    baseUrl: "http://robo402.test",
    privateKey: account(i).privateKey,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const response = await t.platform.app.request(request);
      watch?.(request, response);
      return response;
    },
  });

describe("paid purchase on the local chain", () => {
  it("without payment answers x402's 402 with what to pay, where and how", async () => {
    t = await paidPlatform();
    const response = await t.purchase(account(1).address, ROBOT);
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
    expect(required.x402Version).toBe(2);
    expect(required.accepts).toEqual([
      expect.objectContaining({
        scheme: "exact",
        network: "eip155:31337",
        amount: PRICE.toString(),
        asset: chain.token.address,
        payTo: payee(),
        maxTimeoutSeconds: 120,
        extra: expect.objectContaining({ name: "USD Coin", version: "2" }),
      }),
    ]);
    expect(await response.json()).toMatchObject({ x402Version: 2, accepts: required.accepts });
  });

  it("a payer gets the session; payTo gains exactly the price and the payer loses it", async () => {
    t = await paidPlatform();
    const payer = account(1).address;
    const [payerBefore, payeeBefore] = await Promise.all([chain.balanceOf(payer), chain.balanceOf(payee())]);
    const client = clientFor(1);
    const purchase = await client.buy(ROBOT);
    expect(purchase.status).toBe("success");
    expect(purchase.payment_tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(purchase.settlement?.transaction).toBe(purchase.payment_tx);
    expect(purchase.session).toMatchObject({ active: true, robot_host: ROBOT, token: expect.any(String) });
    expect(await chain.balanceOf(payer)).toBe(payerBefore - PRICE);
    expect(await chain.balanceOf(payee())).toBe(payeeBefore + PRICE);

    expect(await client.drive("forward")).toEqual({ status: "ok", command: "forward" });
    expect(t.sims[0]?.commands().at(-1)?.command).toBe("forward");
    expect((await client.frame()).slice(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));
    expect(await client.session()).toMatchObject({ active: true, robot_host: ROBOT });
    expect((await client.robot(ROBOT)).locked_by).toBe(
      `${payer.slice(0, 6)}...${payer.slice(-4)}`.toLowerCase(),
    );
    expect(await client.release()).toEqual({ status: "released", robot_host: ROBOT });
  });

  it("control calls need the payer's token: missing, forged or ended tokens are 401", async () => {
    t = await paidPlatform();
    const client = clientFor(2);
    const { session } = await client.buy(ROBOT);
    const call = (authorization?: string) =>
      t.request("/api/v1/robot/motor/forward", { headers: authorization ? { authorization } : {} });
    expect((await call()).status).toBe(401);
    expect((await call(`Bearer ${"x".repeat(43)}`)).status).toBe(401);
    expect((await call("Basic abc")).status).toBe(401);
    // X-Wallet-Address opens nothing in paid mode.
    expect((await t.request("/api/v1/robot/motor/forward", { wallet: account(2).address })).status).toBe(401);
    expect((await call(`Bearer ${session.token}`)).status).toBe(200);
    await client.release();
    const ended = await call(`Bearer ${session.token}`);
    expect(ended.status).toBe(401);
    expect(await ended.json()).toEqual({ detail: "Session token is unknown or its session has ended." });
  });

  it("20 wallets paying for one robot at once: one session, one transfer, 19 × 409 uncharged", async () => {
    t = await paidPlatform();
    const buyers = Array.from({ length: 8 }, (_, i) => i); // accounts 0..7 (8 is payTo, 9 the facilitator)
    // 20 purchases from 8 funded wallets: some wallets try more than once.
    const attempts = Array.from({ length: 20 }, (_, i) => buyers[i % buyers.length] as number);
    const before = await Promise.all(buyers.map((i) => chain.balanceOf(account(i).address)));
    const payeeBefore = await chain.balanceOf(payee());
    const results = await Promise.allSettled(attempts.map((i) => clientFor(i).buy(ROBOT)));
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as Robo402Error).status)).toEqual(Array(19).fill(409));
    expect(await chain.balanceOf(payee())).toBe(payeeBefore + PRICE);
    const after = await Promise.all(buyers.map((i) => chain.balanceOf(account(i).address)));
    const spent = before.map((b, i) => b - (after[i] ?? 0n));
    expect(spent.filter((s) => s === PRICE)).toHaveLength(1);
    expect(spent.filter((s) => s === 0n)).toHaveLength(buyers.length - 1);
  });

  it("a busy robot is refused before payment is asked for, and quoted again the moment it is free", async () => {
    t = await paidPlatform();
    // A quote reads the holder through the session cache: each change must reach it at once.
    expect((await t.purchase(account(4).address, ROBOT)).status).toBe(402);
    const holder = clientFor(3);
    await holder.buy(ROBOT);
    const response = await t.purchase(account(4).address, ROBOT);
    expect(response.status).toBe(409);
    expect(response.headers.get("payment-required")).toBeNull();
    expect((await t.request(`/api/v1/robots`).then((r) => r.json()))[0]).toMatchObject({ available: false });
    await holder.release();
    expect((await t.purchase(account(4).address, ROBOT)).status).toBe(402);
    expect((await t.request(`/api/v1/robots`).then((r) => r.json()))[0]).toMatchObject({ available: true });
  });

  it("an offline robot is refused before payment and nobody is charged", async () => {
    t = await paidPlatform();
    t.sims[0]?.setFaults("motor", { offline: true });
    const before = await chain.balanceOf(account(5).address);
    await expect(clientFor(5).buy(ROBOT)).rejects.toMatchObject({ status: 503 });
    expect(await chain.balanceOf(account(5).address)).toBe(before);
  });

  it("a robot that goes away while nobody asks about it is found by the heartbeat and quoted offline", async () => {
    const logs: Array<Record<string, unknown>> = [];
    t = await paidPlatform({ ROBOT_HEARTBEAT_MS: "200" }, logs);
    const sim = t.sims[0] ?? expect.unreachable();
    const logged = (msg: string) => logs.some((line) => line.msg === msg && line.robot === ROBOT);
    expect((await t.purchase(account(5).address, ROBOT)).status).toBe(402);

    // No request in between: the platform notices on its own, before any buyer's quote waits on the robot.
    sim.setFaults("motor", { offline: true });
    await expect.poll(() => logged("robot motor board not answering"), { timeout: 5000 }).toBe(true);
    const refused = await t.purchase(account(5).address, ROBOT);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ detail: `Robot '${ROBOT}' is offline.` });

    sim.setFaults("motor", {});
    await expect.poll(() => logged("robot motor board answers again"), { timeout: 10_000 }).toBe(true);
    expect((await t.purchase(account(5).address, ROBOT)).status).toBe(402);
  });
});

describe("a payment header's way through the server", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("is decoded once, and reaches the ledger from the route through at most 5 files, none twice", async () => {
    t = await paidPlatform();
    // All three only watch: every call goes through to the real method.
    const decode = vi.spyOn(X402Payments.prototype, "decode");
    const authorization = vi.spyOn(MECHANISMS.evm, "authorization");
    const open = PaymentLedger.prototype.open;
    const stacks: string[] = [];
    vi.spyOn(PaymentLedger.prototype, "open").mockImplementation(function (this: PaymentLedger, payment) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 200;
      stacks.push(new Error().stack ?? "");
      Error.stackTraceLimit = limit;
      return open.call(this, payment);
    });
    await clientFor(2).buy(ROBOT);
    expect(decode).toHaveBeenCalledTimes(1);
    // The authorization (payer, nonce) is read from the payload once, and matching reuses it.
    expect(authorization).toHaveBeenCalledTimes(1);
    expect(stacks).toHaveLength(1);

    // The server's files the ledger write was reached through, innermost first, up to the route's file.
    const files: string[] = [];
    for (const line of (stacks[0] ?? "").split("\n")) {
      const file = /apps\/server\/src\/([\w/-]+\.ts)/.exec(line)?.[1];
      if (!file || files.at(-1) === file) continue;
      files.push(file);
      if (file.endsWith("routes.ts")) break;
    }
    // Today: payments/ledger.ts, payments/x402.ts, http/x402.ts, access/routes.ts.
    expect(files[0]).toBe("payments/ledger.ts");
    expect(files.at(-1)).toMatch(/routes\.ts$/);
    expect(new Set(files).size).toBe(files.length);
    expect(files.length).toBeLessThanOrEqual(5);
  });

  it("a paid answer says where its time went: waiting on the facilitator, and the ledger's writes", async () => {
    t = await paidPlatform();
    const timings: string[] = [];
    await clientFor(0, (request, response) => {
      if (request.headers.has("payment-signature")) timings.push(response.headers.get("server-timing") ?? "");
    }).buy(ROBOT);
    const duration = (name: string) =>
      Number(new RegExp(`(?:^|,)\\s*${name};dur=([\\d.]+)`).exec(timings[0] ?? "")?.[1] ?? Number.NaN);
    // The facilitator was asked twice (verify, settle); each wait is inside its stage, apart from the ledger's.
    expect(duration("facilitator")).toBeGreaterThan(0);
    expect(duration("ledger")).toBeGreaterThan(0);
    expect(duration("facilitator") + duration("ledger")).toBeLessThanOrEqual(
      duration("verify") + duration("settle"),
    );
  });
});

describe("bad payments", () => {
  it("a malformed payment header is 400 and says what is wrong", async () => {
    t = await paidPlatform();
    for (const header of ["not base64 !!", Buffer.from("{not json").toString("base64"), "e30"]) {
      const response = await t.request("/api/v1/access/purchase", {
        method: "POST",
        headers: { "content-type": "application/json", "payment-signature": header },
        body: JSON.stringify({ robot_host: ROBOT }),
      });
      expect([400, 402]).toContain(response.status);
      const body = (await response.json()) as { detail?: string; error?: string };
      expect(body.detail ?? body.error).toBeTruthy();
    }
  });

  it("X-Wallet-Address that is not the payer is 400 and nothing is charged", async () => {
    t = await paidPlatform();
    const before = await chain.balanceOf(account(6).address);
    const client = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: account(6).privateKey,
      wallet: account(7).address,
      fetch: async (input, init) => t.platform.app.request(new Request(input, init)),
    });
    const refused = await client.buy(ROBOT).catch((error: Robo402Error) => error);
    expect(refused).toBeInstanceOf(Robo402Error);
    expect((refused as Robo402Error).status).toBe(400);
    expect(String((refused as Robo402Error).detail)).toMatch(/not the wallet that signed/);
    expect(await chain.balanceOf(account(6).address)).toBe(before);
  });

  it("the same payment sent twice is refused with a reason and charged once", async () => {
    t = await paidPlatform();
    const sent: string[] = [];
    const client = clientFor(7, (request) => {
      const payment = request.headers.get("payment-signature");
      if (payment) sent.push(payment);
    });
    const before = await chain.balanceOf(account(7).address);
    await client.buy(ROBOT);
    await client.release();
    const replay = await t.request("/api/v1/access/purchase", {
      method: "POST",
      headers: { "content-type": "application/json", "payment-signature": sent[0] ?? "" },
      body: JSON.stringify({ robot_host: ROBOT }),
    });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(
      /^This payment authorization was already used \(granted, tx 0x[0-9a-f]{64}\); a payment is charged once/,
    );
    expect(await chain.balanceOf(account(7).address)).toBe(before - PRICE);
  });
});

describe("sign-in-with-x (x402's SIWX extension)", () => {
  it("the paying wallet drives with a signature instead of a token; another wallet is refused", async () => {
    t = await paidPlatform({ PUBLIC_URL: "http://robo402.test" });
    await clientFor(1).buy(ROBOT);
    const signedIn = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: account(1).privateKey,
      signIn: true,
      fetch: async (input, init) => t.platform.app.request(new Request(input, init)),
    });
    expect(await signedIn.drive("left")).toEqual({ status: "ok", command: "left" });
    expect(t.sims[0]?.commands().at(-1)?.command).toBe("left");

    const stranger = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: account(2).privateKey,
      signIn: true,
      fetch: async (input, init) => t.platform.app.request(new Request(input, init)),
    });
    const refused = await stranger.drive("left").catch((error: Robo402Error) => error);
    expect(refused).toMatchObject({ status: 403 });
    expect(String((refused as Robo402Error).detail)).toMatch(/holds no paid session/);
  });

  it("a sign-in for another site is refused whatever Host the request names, and so is a replay", async () => {
    t = await paidPlatform({ PUBLIC_URL: "http://robo402.test" });
    await clientFor(3).buy(ROBOT);
    const { signIn } = await import("@robo402/client");
    const elsewhere = await signIn(account(3).privateKey, "http://evil.test/api", "eip155:31337");
    // The request's URL is what its Host header made it: even one naming evil.test is not evil.test's.
    for (const host of ["robo402.test", "evil.test"]) {
      const wrongSite = await t.request(`http://${host}/api/v1/robot/motor/left`, {
        headers: { "sign-in-with-x": elsewhere },
      });
      expect(wrongSite.status).toBe(401);
      expect(((await wrongSite.json()) as { detail: string }).detail).toBe(
        "Sign-in refused: it was signed for 'evil.test', not for 'robo402.test'.",
      );
    }

    const once = await signIn(account(3).privateKey, "http://robo402.test/api", "eip155:31337");
    const first = await t.request("http://robo402.test/api/v1/robot/motor/left", {
      headers: { "sign-in-with-x": once },
    });
    expect(first.status).toBe(200);
    const replay = await t.request("http://robo402.test/api/v1/robot/motor/left", {
      headers: { "sign-in-with-x": once },
    });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/nonce was already used/);
  });

  it("without PUBLIC_URL on the local chain, sign-ins name the server's own origins, localhost or 127.0.0.1", async () => {
    t = await paidPlatform();
    await clientFor(5).buy(ROBOT);
    const { signIn } = await import("@robo402/client");
    for (const origin of ["http://localhost:8000", "http://127.0.0.1:8000"]) {
      const own = await signIn(account(5).privateKey, `${origin}/api`, "eip155:31337");
      const drove = await t.request(`${origin}/api/v1/robot/motor/left`, {
        headers: { "sign-in-with-x": own },
      });
      expect(drove.status).toBe(200);
    }
    const claimed = await signIn(account(5).privateKey, "http://robo402.test/api", "eip155:31337");
    const refused = await t.request("http://robo402.test/api/v1/robot/motor/left", {
      headers: { "sign-in-with-x": claimed },
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "Sign-in refused: it was signed for 'robo402.test', not for 'localhost:8000' or '127.0.0.1:8000'.",
    );
  });
});

describe("payment-identifier (x402's idempotent retry)", () => {
  it("a purchase whose answer was lost is retried under its identifier: same session, one transfer", async () => {
    t = await paidPlatform();
    const payer = account(4);
    const [payerBefore, payeeBefore] = await Promise.all([
      chain.balanceOf(payer.address),
      chain.balanceOf(payee()),
    ]);
    let dropped = 0;
    const client = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: payer.privateKey,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        const response = await t.platform.app.request(request);
        // The server granted the purchase, but the answer never reaches the client.
        if (request.headers.has("payment-signature") && dropped++ === 0) throw new TypeError("fetch failed");
        return response;
      },
    });
    const purchase = await client.buy(ROBOT);
    expect(dropped).toBe(2);
    expect(purchase.session).toMatchObject({ active: true, robot_host: ROBOT, token: expect.any(String) });
    expect(await chain.balanceOf(payer.address)).toBe(payerBefore - PRICE);
    expect(await chain.balanceOf(payee())).toBe(payeeBefore + PRICE);
    expect(await client.drive("right")).toEqual({ status: "ok", command: "right" });
  });
});
