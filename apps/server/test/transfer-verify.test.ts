import { type PlanPayment, payingFetch, payTransfer, Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain, testUsdcAbi } from "@robo402/devchain";
import { type ServiceRobot, startServiceRobot } from "@robo402/robot-sim";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type CallInit,
  callAs,
  localChainEnv,
  signUp as signUpAs,
  startTestPlatform,
  type TestPlatform,
} from "./helpers.ts";

// The plan's transfer-then-verify flow as a stranger would attack it and as its rightful payer uses it, on
// the real local chain (anvil, test USDC, x402 facilitator) and a robot-sim service robot. Nothing about
// payment is mocked.
const PRICE = 50_000n; // the Analyst's $0.05 in base units
const ROBOT = "finland-tumbller-01";
const NUMBERS = { service: "data-analysis", input: { values: [1, 2, 3] } };

let chain: Devchain;
let t: TestPlatform;
let analyst: ServiceRobot;
let owner: string;
let otherOwner: string;
let admin: string;
let robotId: string;

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const robotWallet = () => account(7).address;
const wallet = (i: number) =>
  createWalletClient({
    account: privateKeyToAccount(account(i).privateKey),
    chain: foundry,
    transport: http(chain.rpcUrl),
    pollingInterval: 50,
  }).extend(publicActions);

beforeAll(async () => {
  chain = await startDevchain();
  analyst = await startServiceRobot({ kind: "data-analysis" });
  t = await startTestPlatform({
    robots: [ROBOT],
    env: {
      ...localChainEnv(chain, account(8).address),
      ADMIN_EMAIL: "admin@robo402.test",
      ADMIN_PASSWORD: "admin-password",
      ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
      SIMULATED_SERVICES: "true",
      EXECUTE_RATE_LIMIT: "100",
    },
  });
  owner = await signUp("owner@robo402.test", "robot_owner");
  otherOwner = await signUp("other-owner@robo402.test", "robot_owner");
  const login = await call("/api/auth/login", undefined, {
    method: "POST",
    body: { email: "admin@robo402.test", password: "admin-password" },
  });
  admin = ((await login.json()) as { access_token: string }).access_token;
  const created = await call("/api/robots", owner, {
    method: "POST",
    body: {
      name: "Analyst",
      price: "0.05",
      wallet_address: robotWallet(),
      services: ["data-analysis"],
      endpoint: analyst.url,
    },
  });
  expect(created.status).toBe(201);
  robotId = ((await created.json()) as { id: string }).id;
});
afterAll(async () => {
  await t?.close();
  await analyst?.close();
  await chain?.close();
});

const call = (path: string, token: string | undefined, init?: CallInit) => callAs(t, path, token, init);
const signUp = (email: string, role = "user") => signUpAs(t, email, role);

type Plan402 = PlanPayment & { session_id: string; recipient: `0x${string}` };

/** A fresh 402 for `token`'s account on `robot`: the plan's payment session. */
async function open402(token: string, robot = robotId): Promise<Plan402> {
  const response = await call(`/api/execute/${robot}`, token, { method: "POST", body: NUMBERS });
  expect(response.status).toBe(402);
  return (await response.json()) as Plan402;
}

const verify = (token: string | undefined, sessionId: string, tx: string) =>
  call("/api/payments/verify", token, { method: "POST", body: { session_id: sessionId, tx_signature: tx } });

/** The SDK's plan-flow transfer (the session id as calldata suffix), from account `i`, mined. */
async function paySuffixed(i: number, session: PlanPayment): Promise<`0x${string}`> {
  const hash = await payTransfer(wallet(i), session);
  await wallet(i).waitForTransactionReceipt({ hash });
  return hash;
}

/** A plain ERC-20 transfer with nothing saying whose it is, mined. */
async function plainTransfer(i: number, to: `0x${string}`, amount: bigint): Promise<`0x${string}`> {
  const hash = await wallet(i).writeContract({
    address: chain.token.address,
    abi: testUsdcAbi,
    functionName: "transfer",
    args: [to, amount],
  });
  await wallet(i).waitForTransactionReceipt({ hash });
  return hash;
}

/** Links account `i`'s wallet to `token`'s account by signing the server's SIWE message. */
async function link(token: string, i: number): Promise<void> {
  const nonce = await call("/api/auth/wallet/nonce", token, {
    method: "POST",
    body: { address: account(i).address },
  });
  expect(nonce.status).toBe(200);
  const { message } = (await nonce.json()) as { message: string };
  const signature = await wallet(i).signMessage({ message });
  const linked = await call("/api/auth/wallet", token, { method: "POST", body: { message, signature } });
  expect(linked.status).toBe(200);
}

interface Unmatched {
  id: string;
  tx_hash: string;
  sender: string;
  amount: string;
  code: string;
  robot_id: string;
  payment_session_id: string;
  refunded_at: string | null;
  refund_tx: string | null;
}

async function unmatchedOf(token: string, path = "/api/payments/unmatched"): Promise<Unmatched[]> {
  const response = await call(path, token);
  expect(response.status).toBe(200);
  return ((await response.json()) as { unmatched_transfers: Unmatched[] }).unmatched_transfers;
}

describe("a plan-flow transfer pays only the session it proves", () => {
  it("a claim of another account's transfer is refused and the owner's own verify still succeeds", async () => {
    const alice = await signUp("alice@robo402.test");
    const bob = await signUp("bob@robo402.test");
    const hers = await open402(alice);
    const tx = await paySuffixed(1, hers);

    // Bob watches the robot's wallet, opens his own 402 and names Alice's transfer before she does.
    const his = await open402(bob);
    const stolen = await verify(bob, his.session_id, tx);
    expect(stolen.status).toBe(400);
    const refusal = (await stolen.json()) as { verified: boolean; code: string; error: string };
    expect(refusal).toMatchObject({ verified: false, code: "unproven_payer" });
    expect(refusal.error).toMatch(/calldata suffix/);
    expect(refusal.error).toMatch(/link the paying wallet/);
    expect(
      (
        await call(`/api/execute/${robotId}`, bob, {
          method: "POST",
          body: NUMBERS,
          headers: { "x-session-id": his.session_id },
        })
      ).status,
    ).toBe(402);

    const verified = await verify(alice, hers.session_id, tx);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ verified: true, session_id: hers.session_id, tx_signature: tx });
    const result = await call(`/api/execute/${robotId}`, alice, {
      method: "POST",
      body: NUMBERS,
      headers: { "x-session-id": hers.session_id },
    });
    expect(result.status).toBe(200);
    // Bob's attempt had put the transfer on the owner's refund list; it paid Alice's session, so it left it.
    expect((await unmatchedOf(owner)).map((row) => row.tx_hash)).not.toContain(tx);
  });

  it("a transfer from the account's linked wallet needs no suffix, but one mined before the session opened is refused", async () => {
    const carol = await signUp("carol@robo402.test");
    await link(carol, 3);
    const early = await plainTransfer(3, robotWallet(), PRICE);

    // Carol's 402 comes half a minute after her transfer was mined (the server's clock moved on).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 30_000 });
    let later: Plan402;
    try {
      later = await open402(carol);
    } finally {
      vi.useRealTimers();
    }
    const tooOld = await verify(carol, later.session_id, early);
    expect(tooOld.status).toBe(400);
    expect(await tooOld.json()).toMatchObject({ verified: false, code: "too_old" });

    const now = await open402(carol);
    const fresh = await plainTransfer(3, robotWallet(), PRICE);
    expect((await verify(carol, now.session_id, fresh)).status).toBe(200);
  });
});

describe("a transaction pays at most one thing, platform-wide", () => {
  it("an x402 per-call settlement's transaction cannot pay a per-call session of the same robot", async () => {
    const dave = await signUp("dave@robo402.test");
    await link(dave, 4);
    const pay = payingFetch({
      privateKey: account(4).privateKey,
      maxAmount: 1_000_000n,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        request.headers.set("authorization", `Bearer ${dave}`);
        return t.platform.app.request(request);
      },
    });
    const paid = await pay(`http://robo402.test/api/execute/${robotId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(NUMBERS),
    });
    expect(paid.status).toBe(200);
    const { payment_tx: settlement } = (await paid.json()) as { payment_tx: `0x${string}` };

    // Everything else about the claim holds: Dave's linked wallet paid the robot's wallet enough, just now.
    const next = await open402(dave);
    const reused = await verify(dave, next.session_id, settlement);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ verified: false, code: "reused" });
  });

  it("an x402 drive purchase's settlement cannot pay a per-call session paid to the same wallet", async () => {
    const erin = await signUp("erin@robo402.test");
    await link(erin, 5);
    const buyer = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: account(5).privateKey,
      fetch: async (input, init) => t.platform.app.request(new Request(input, init)),
    });
    const purchase = await buyer.buy(ROBOT);
    expect(purchase.payment_tx).toMatch(/^0x[0-9a-f]{64}$/);

    // The simulated analysis robot is paid to the platform's wallet, like the drive purchase.
    const listed = (await (await call("/api/robots?service=data-analysis", undefined)).json()) as {
      robots: Array<{ id: string; name: string }>;
    };
    const simulated =
      listed.robots.find((robot) => robot.name === "sim-data-analysis") ?? expect.unreachable();
    const session = await open402(erin, simulated.id);
    expect(session.recipient).toBe(account(8).address);
    const reused = await verify(erin, session.session_id, purchase.payment_tx as string);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ verified: false, code: "reused" });
  });
});

describe("money that reached a robot's wallet but paid nothing", () => {
  it("is listed for the robot's owner with its sender and amount, can be marked refunded, and is not another owner's", async () => {
    const frank = await signUp("frank@robo402.test");
    const short = await open402(frank);
    const tooLittle = await paySuffixed(6, { ...short, amount: "0.01" });
    expect(await (await verify(frank, short.session_id, tooLittle)).json()).toMatchObject({
      code: "amount_too_low",
    });
    const unproven = await open402(frank);
    const anonymous = await plainTransfer(2, robotWallet(), PRICE);
    expect(await (await verify(frank, unproven.session_id, anonymous)).json()).toMatchObject({
      code: "unproven_payer",
    });
    // Asking again records it once.
    await verify(frank, unproven.session_id, anonymous);

    const listed = await unmatchedOf(owner);
    const low = listed.find((row) => row.tx_hash === tooLittle);
    const stray = listed.find((row) => row.tx_hash === anonymous);
    expect(low).toMatchObject({
      sender: account(6).address.toLowerCase(),
      amount: "10000",
      code: "amount_too_low",
      robot_id: robotId,
      payment_session_id: short.session_id,
      refunded_at: null,
    });
    expect(stray).toMatchObject({
      sender: account(2).address.toLowerCase(),
      amount: PRICE.toString(),
      code: "unproven_payer",
    });
    expect(listed.filter((row) => row.tx_hash === anonymous)).toHaveLength(1);

    // Another owner sees none of it and cannot touch it; a plain user has no robots; an admin sees all.
    expect(await unmatchedOf(otherOwner)).toEqual([]);
    const refundBody = { refund_tx: `0x${"ab".repeat(32)}` };
    const foreign = await call(`/api/payments/unmatched/${low?.id}/refund`, otherOwner, {
      method: "POST",
      body: refundBody,
    });
    expect(foreign.status).toBe(403);
    expect((await call("/api/payments/unmatched", frank)).status).toBe(403);
    expect((await call("/api/payments/unmatched", undefined)).status).toBe(401);
    expect((await call("/api/admin/unmatched-transfers", owner)).status).toBe(403);
    expect((await unmatchedOf(admin, "/api/admin/unmatched-transfers")).map((row) => row.tx_hash)).toEqual(
      expect.arrayContaining([tooLittle, anonymous]),
    );

    const refunded = await call(`/api/payments/unmatched/${low?.id}/refund`, owner, {
      method: "POST",
      body: refundBody,
    });
    expect(refunded.status).toBe(200);
    expect(await refunded.json()).toMatchObject({
      tx_hash: tooLittle,
      refund_tx: refundBody.refund_tx,
      refunded_at: expect.any(String),
    });
    const twice = await call(`/api/payments/unmatched/${low?.id}/refund`, owner, {
      method: "POST",
      body: refundBody,
    });
    expect(twice.status).toBe(409);
    const spec = (await (await call("/openapi.json", undefined)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/api/payments/unmatched",
        "/api/payments/unmatched/{id}/refund",
        "/api/admin/unmatched-transfers",
        "/api/admin/unmatched-transfers/{id}/refund",
      ]),
    );
    const owed = await unmatchedOf(owner, "/api/payments/unmatched?refunded=false");
    expect(owed.map((row) => row.tx_hash)).toEqual(expect.arrayContaining([anonymous]));
    expect(owed.map((row) => row.tx_hash)).not.toContain(tooLittle);
  });

  it("a transfer marked refunded pays nothing afterwards, even to the session it was for", async () => {
    const grace = await signUp("grace@robo402.test");
    const heidi = await signUp("heidi@robo402.test");
    const hers = await open402(grace);
    const tx = await paySuffixed(1, hers);
    const other = await open402(heidi);
    expect(await (await verify(heidi, other.session_id, tx)).json()).toMatchObject({
      code: "unproven_payer",
    });

    const row = (await unmatchedOf(owner)).find((listed) => listed.tx_hash === tx) ?? expect.unreachable();
    const refund = await call(`/api/admin/unmatched-transfers/${row.id}/refund`, admin, {
      method: "POST",
      body: { refund_tx: `0x${"cd".repeat(32)}` },
    });
    expect(refund.status).toBe(200);
    const late = await verify(grace, hers.session_id, tx);
    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ verified: false, code: "refunded" });
  });

  it("a proven transfer to an expired session is refused and kept for a refund", async () => {
    const ivan = await signUp("ivan@robo402.test");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 16 * 60_000 });
    let stale: Plan402;
    try {
      stale = await open402(ivan);
    } finally {
      vi.useRealTimers();
    }
    const tx = await paySuffixed(6, stale);
    const expired = await verify(ivan, stale.session_id, tx);
    expect(await expired.json()).toMatchObject({ verified: false, code: "expired" });
    expect((await unmatchedOf(owner)).find((row) => row.tx_hash === tx)).toMatchObject({
      code: "expired",
      sender: account(6).address.toLowerCase(),
      amount: PRICE.toString(),
    });
  });
});
