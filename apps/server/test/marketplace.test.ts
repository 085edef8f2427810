import { type PlanPayment, payTransfer } from "@robo402/client";
import { type Devchain, startDevchain, testUsdcAbi } from "@robo402/devchain";
import { type ServiceRobot, startServiceRobot } from "@robo402/robot-sim";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  type CallInit,
  callAs,
  localChainEnv,
  signUp as signUpAs,
  startTestPlatform,
  type TestPlatform,
} from "./helpers.ts";
import { type Listener, listen } from "./listen.ts";

// The second plan end to end, on the real local chain (anvil, test USDC, x402 facilitator) and a real
// robot-sim service robot over HTTP: accounts, an owner's robot, pay per call with @x402/fetch and with
// the plan's transfer-and-verify flow, metrics, roles. Nothing about payment or the robot is mocked.
const PRICE = 50_000n; // 0.05 USDC in base units

let chain: Devchain;
let t: TestPlatform;
let server: Listener;
let analyst: ServiceRobot;
let owner: string;
let user: string;
let admin: string;
let robotId: string;

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const ownerWallet = () => account(7).address;

beforeAll(async () => {
  chain = await startDevchain();
  analyst = await startServiceRobot({ kind: "data-analysis" });
  t = await startTestPlatform({
    robots: [],
    env: {
      ...localChainEnv(chain, account(8).address),
      ADMIN_EMAIL: "admin@robo402.test",
      ADMIN_PASSWORD: "admin-password",
      // The owner's robot runs on this machine's loopback: the operator allows it (robots/endpoint-guard.ts).
      ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
      SIMULATED_SERVICES: "true",
      EXECUTE_RATE_LIMIT: "20",
    },
  });
  // The node bindings (env) carry the socket a WebSocket upgrade needs.
  server = await listen((request, env) => t.platform.app.fetch(request, env as object));
  owner = await signUp("owner@robo402.test", "robot_owner");
  user = await signUp("user@robo402.test", "user");
  admin = await logIn("admin@robo402.test", "admin-password");
  const created = await call("/api/robots", owner, {
    method: "POST",
    body: {
      name: "Analyst",
      description: "Statistics of numbers",
      price: "0.05",
      wallet_address: ownerWallet(),
      services: ["data-analysis"],
      endpoint: analyst.url,
    },
  });
  expect(created.status).toBe(201);
  robotId = ((await created.json()) as { id: string }).id;
});
afterAll(async () => {
  await server?.close();
  await t?.close();
  await analyst?.close();
  await chain?.close();
});

const call = (path: string, token: string | undefined, init?: CallInit) => callAs(t, path, token, init);
const signUp = (email: string, role: string) => signUpAs(t, email, role);

async function logIn(email: string, password: string): Promise<string> {
  const response = await call("/api/auth/login", undefined, { method: "POST", body: { email, password } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const execute = (token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  call(`/api/execute/${robotId}`, token, { method: "POST", body, headers });

/** @x402/fetch paying from `i`'s key, allowed to spend the test token (x402's defaults do not know it). */
function payingFetch(i: number, token?: string) {
  const client = x402Client.fromConfig({
    schemes: [
      { network: "eip155:*", client: new ExactEvmScheme(privateKeyToAccount(account(i).privateKey)) },
    ],
    spendControls: {
      allowedAssets: [
        { network: "eip155:31337", asset: chain.token.address, maxAmountPerPayment: "1000000" },
      ],
    },
  });
  const base = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (token) request.headers.set("authorization", `Bearer ${token}`);
    return t.platform.app.request(request);
  };
  return wrapFetchWithPayment(base, client);
}

const walletOf = (i: number) =>
  createWalletClient({
    account: privateKeyToAccount(account(i).privateKey),
    chain: foundry,
    transport: http(chain.rpcUrl),
  }).extend(publicActions);

/** The plan's EVM payment as the SDK sends it: the session id as calldata suffix, so it proves its session. */
async function paySession(from: number, session: PlanPayment): Promise<`0x${string}`> {
  const wallet = walletOf(from);
  const hash = await payTransfer(wallet, session);
  await wallet.waitForTransactionReceipt({ hash });
  return hash;
}

/** A plain transfer, carrying nothing that says which session it pays. */
async function transfer(from: number, to: `0x${string}`, amount: bigint): Promise<`0x${string}`> {
  const wallet = walletOf(from);
  const hash = await wallet.writeContract({
    address: chain.token.address,
    abi: testUsdcAbi,
    functionName: "transfer",
    args: [to, amount],
  });
  await wallet.waitForTransactionReceipt({ hash });
  return hash;
}

const NUMBERS = { service: "data-analysis", input: { values: [1, 2, 3, 4] } };

describe("the registry", () => {
  it("lists the owner's robot with its price and metrics, and hides where it is reached", async () => {
    const response = await call("/api/robots?service=data-analysis", undefined);
    expect(response.status).toBe(200);
    const { robots } = (await response.json()) as { robots: Array<Record<string, unknown>> };
    const listed = robots.find((robot) => robot.id === robotId);
    expect(listed).toMatchObject({
      name: "Analyst",
      price: "0.05",
      currency: "USDC",
      services: ["data-analysis"],
      metrics: { total_executions: 0, success_rate: 1 },
    });
    expect(listed).not.toHaveProperty("endpoint");
    // npm start's own simulated service robot is listed beside it.
    expect(robots.map((robot) => robot.name)).toContain("sim-data-analysis");
  });

  it("refuses an endpoint inside the server's network that the operator did not allow", async () => {
    const response = await call("/api/robots", owner, {
      method: "POST",
      body: {
        name: "Metadata thief",
        price: "0.01",
        wallet_address: ownerWallet(),
        services: ["data-analysis"],
        endpoint: "http://169.254.169.254/latest/meta-data/",
      },
    });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/^endpoint refused: .*link-local/);
  });
});

describe("pay per call with x402", () => {
  it("answers 402 with the plan's headers and body and x402's accepts[], paid to the robot's wallet", async () => {
    const response = await execute(user, NUMBERS);
    expect(response.status).toBe(402);
    expect(response.headers.get("x-payment-required")).toBe("true");
    expect(response.headers.get("x-payment-amount")).toBe("0.05");
    expect(response.headers.get("x-payment-currency")).toBe("USDC");
    expect(response.headers.get("x-payment-address")).toBe(ownerWallet());
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      error: "Payment Required",
      amount: 0.05,
      currency: "USDC",
      recipient: ownerWallet(),
      service: "data-analysis",
      robot_id: robotId,
      session_id: response.headers.get("x-session-id"),
    });
    const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
    expect(required.accepts).toEqual([
      expect.objectContaining({
        scheme: "exact",
        network: "eip155:31337",
        amount: PRICE.toString(),
        asset: chain.token.address,
        payTo: ownerWallet(),
      }),
    ]);
    // Agents find the robot through x402's bazaar discovery extension.
    expect(required.extensions?.bazaar).toBeDefined();
  });

  it("the 402 asks for an owner's new price at once (an unpaid 402 is built once per offer)", async () => {
    const asked = async () => {
      const response = await execute(user, NUMBERS);
      const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
      return required.accepts[0]?.amount;
    };
    expect(await asked()).toBe(PRICE.toString());
    const reprice = (price: string) =>
      call(`/api/robots/${robotId}`, owner, { method: "PATCH", body: { price } });
    expect((await reprice("0.07")).status).toBe(200);
    try {
      expect(await asked()).toBe("70000");
    } finally {
      expect((await reprice("0.05")).status).toBe(200);
    }
    expect(await asked()).toBe(PRICE.toString());
  });

  it("@x402/fetch pays in one retry, gets the result, and exactly the price moves", async () => {
    const before = await Promise.all([chain.balanceOf(account(2).address), chain.balanceOf(ownerWallet())]);
    const response = await payingFetch(2, user)(`http://robo402.test/api/execute/${robotId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(NUMBERS),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Record<string, number>; payment_tx: string };
    expect(body.data).toMatchObject({ count: 4, sum: 10, mean: 2.5, median: 2.5, min: 1, max: 4 });
    expect(body.payment_tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(response.headers.get("payment-response")).toBeTruthy();
    const after = await Promise.all([chain.balanceOf(account(2).address), chain.balanceOf(ownerWallet())]);
    expect(after).toEqual([(before[0] ?? 0n) - PRICE, (before[1] ?? 0n) + PRICE]);
  });

  it("a robot that fails is not charged, and its metrics say so", async () => {
    analyst.faults = { errorStatus: 500 };
    try {
      const before = await chain.balanceOf(account(3).address);
      const response = await payingFetch(3)(`http://robo402.test/api/execute/${robotId}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(NUMBERS),
      });
      expect(response.status).toBe(502);
      expect(((await response.json()) as { detail: string }).detail).toMatch(
        /^Robot Analyst failed: .*500.*You were not charged\.$/,
      );
      expect(await chain.balanceOf(account(3).address)).toBe(before);
    } finally {
      analyst.faults = {};
    }
  });

  it("a service the robot does not sell is 422 before any payment", async () => {
    const response = await execute(user, { service: "text-to-image", input: {} });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { detail: string }).detail).toBe(
      "Robot Analyst does not sell 'text-to-image'. It sells: data-analysis.",
    );
  });
});

describe("pay per call with the plan's flow: transfer, verify, retry with X-Session-ID", () => {
  it("pays, is seen paid on the WebSocket, runs once, and the transfer cannot pay twice", async () => {
    const unpaid = await execute(user, NUMBERS);
    expect(unpaid.status).toBe(402);
    const session = (await unpaid.json()) as PlanPayment;
    const sessionId = session.session_id;

    const socket = new WebSocket(`${server.url.replace("http", "ws")}/ws/session/${sessionId}`);
    const messages: string[] = [];
    socket.on("message", (data) => messages.push(String(data)));
    await new Promise((resolve) => socket.once("open", resolve));

    const tx = await paySession(4, session);
    const verified = await call("/api/payments/verify", user, {
      method: "POST",
      body: { session_id: sessionId, tx_signature: tx },
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ verified: true, session_id: sessionId, tx_signature: tx });
    await expect.poll(() => messages).toContain(JSON.stringify({ status: "paid" }));

    // The robot failing leaves the paid session usable: the caller retries with it.
    analyst.faults = { errorStatus: 503 };
    const failed = await execute(user, NUMBERS, { "x-session-id": sessionId });
    analyst.faults = {};
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { detail: string }).detail).toMatch(/stays paid: retry with it\.$/);

    const paid = await execute(user, NUMBERS, { "x-session-id": sessionId });
    expect(paid.status).toBe(200);
    expect(((await paid.json()) as { data: { count: number } }).data.count).toBe(4);
    await expect.poll(() => messages).toContain(JSON.stringify({ status: "completed" }));
    socket.close();

    const again = await execute(user, NUMBERS, { "x-session-id": sessionId });
    expect(again.status).toBe(409);

    // The same transfer offered for a new session is refused, with the reason: it paid the first.
    const next = (await (await execute(user, NUMBERS)).json()) as { session_id: string };
    const reused = await call("/api/payments/verify", user, {
      method: "POST",
      body: { session_id: next.session_id, tx_signature: tx },
    });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ verified: false, code: "reused" });
  });

  it("a transfer of too little, or to someone else, is refused with the check that failed", async () => {
    const session = (await (await execute(user, NUMBERS)).json()) as PlanPayment;
    const sessionId = session.session_id;
    const short = await paySession(5, { ...session, amount: "0.049999" });
    const tooLittle = await call("/api/payments/verify", user, {
      method: "POST",
      body: { session_id: sessionId, tx_signature: short },
    });
    expect(tooLittle.status).toBe(400);
    expect(await tooLittle.json()).toMatchObject({ verified: false, code: "amount_too_low" });

    const elsewhere = await transfer(5, account(6).address, PRICE);
    const wrong = await call("/api/payments/verify", user, {
      method: "POST",
      body: { session_id: sessionId, tx_signature: elsewhere },
    });
    expect(await wrong.json()).toMatchObject({ verified: false, code: "wrong_recipient" });
    // Still unpaid: the call is refused with a 402.
    expect((await execute(user, NUMBERS, { "x-session-id": sessionId })).status).toBe(402);
  });
});

describe("rate limits", () => {
  it("the 21st call in a minute from one account is 429 with Retry-After; another account is not held back", async () => {
    const busy = await signUp("busy@robo402.test", "user");
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await execute(busy, NUMBERS)).status);
    expect(statuses).toEqual([...Array(20).fill(402), 429]);
    const refused = await execute(busy, NUMBERS);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(
      /^Too many requests: at most 20 per minute on \/api\/execute; retry in \d+ s\.$/,
    );
    expect((await execute(await signUp("calm@robo402.test", "user"), NUMBERS)).status).toBe(402);
  });
});

describe("what owners, users and admins see", () => {
  it("the owner sees executions, revenue, success rate and recent payments; the user its spending", async () => {
    const response = await call(`/api/robots/${robotId}/metrics`, owner);
    expect(response.status).toBe(200);
    const metrics = (await response.json()) as Record<string, unknown> & { recent_payments: unknown[] };
    expect(metrics).toMatchObject({
      robot_id: robotId,
      total_executions: 4,
      successful_executions: 2,
      failed_executions: 2,
      total_revenue: "0.1",
    });
    expect(metrics.success_rate).toBeCloseTo(2 / 4);
    expect(metrics.recent_payments).toHaveLength(2);

    const me = (await (await call("/api/auth/me", user)).json()) as { total_spent: string };
    expect(Number(me.total_spent)).toBeCloseTo(0.1);
  });

  it("each role reaches exactly what the plan lets it", async () => {
    const otherOwner = await signUp("matrix-owner@robo402.test", "robot_owner");
    const newRobot = {
      name: "x",
      price: "1",
      wallet_address: ownerWallet(),
      services: ["a"],
      endpoint: "http://x",
    };
    const someone = ((await (await call("/api/auth/me", user)).json()) as { id: string }).id;
    // Every protected route × every role. 422 means the role got in and the body was judged.
    const routes: Array<[string, string, unknown, Record<string, number>]> = [
      ["GET", "/api/auth/me", undefined, { none: 401, user: 200, owner: 200, admin: 200 }],
      ["POST", "/api/auth/wallet/nonce", {}, { none: 401, user: 422, owner: 422, admin: 422 }],
      ["POST", "/api/auth/wallet", {}, { none: 401, user: 422, owner: 422, admin: 422 }],
      ["POST", "/api/robots", newRobot, { none: 401, user: 403, owner: 422, admin: 422 }],
      [
        "GET",
        `/api/robots/${robotId}/metrics`,
        undefined,
        { none: 401, user: 403, other: 403, owner: 200, admin: 200 },
      ],
      [
        "PATCH",
        `/api/robots/${robotId}`,
        { description: "Numbers in, statistics out" },
        { none: 401, user: 403, other: 403, owner: 200, admin: 200 },
      ],
      ["DELETE", `/api/robots/${robotId}`, undefined, { none: 401, user: 403, other: 403 }],
      ["GET", "/api/robots?mine=true", undefined, { none: 401, user: 200, owner: 200, admin: 200 }],
      ["GET", "/api/payments", undefined, { none: 401, user: 200, owner: 200, admin: 200 }],
      ["GET", "/api/payments?scope=owned", undefined, { none: 401, user: 403, owner: 200, admin: 200 }],
      ["GET", "/api/payments?scope=all", undefined, { none: 401, user: 403, owner: 403, admin: 200 }],
      ["GET", "/api/executions?scope=owned", undefined, { none: 401, user: 403, owner: 200, admin: 200 }],
      ["GET", "/api/admin/users", undefined, { none: 401, user: 403, owner: 403, admin: 200 }],
      [
        "PATCH",
        `/api/admin/users/${someone}`,
        { role: "user" },
        { none: 401, user: 403, owner: 403, admin: 200 },
      ],
      ["GET", "/api/admin/robots", undefined, { none: 401, user: 403, owner: 403, admin: 200 }],
      [
        "POST",
        `/api/admin/robots/${robotId}/unsuspend`,
        undefined,
        { none: 401, user: 403, owner: 403, admin: 200 },
      ],
      ["GET", "/api/admin/payments", undefined, { none: 401, user: 403, owner: 403, admin: 200 }],
      ["GET", "/api/admin/executions", undefined, { none: 401, user: 403, owner: 403, admin: 200 }],
    ];
    const tokens: Record<string, string | undefined> = {
      none: undefined,
      user,
      other: otherOwner,
      owner,
      admin,
    };
    const seen: Record<string, Record<string, number>> = {};
    for (const [method, path, body, expected] of routes) {
      const key = `${method} ${path}`;
      seen[key] = {};
      for (const role of Object.keys(expected)) {
        seen[key][role] = (await call(path, tokens[role], { method, body })).status;
      }
    }
    expect(seen).toEqual(Object.fromEntries(routes.map(([m, p, , e]) => [`${m} ${p}`, e])));
  });

  it("an owner sees the payments to its own robots and no one else's", async () => {
    const other = await signUp("other-owner@robo402.test", "robot_owner");
    const own = (await (await call("/api/payments?scope=owned", owner)).json()) as {
      payments: Array<{ robot_id: string }>;
    };
    expect(own.payments.length).toBeGreaterThan(0);
    expect(new Set(own.payments.map((payment) => payment.robot_id))).toEqual(new Set([robotId]));
    const foreign = (await (await call("/api/payments?scope=owned", other)).json()) as {
      payments: unknown[];
    };
    expect(foreign.payments).toEqual([]);
  });

  it("an admin's suspension takes the robot out of the listing and refuses its calls", async () => {
    const suspended = await call(`/api/admin/robots/${robotId}/suspend`, admin, {
      method: "POST",
      body: { reason: "reported" },
    });
    expect(suspended.status).toBe(200);
    const { robots } = (await (await call("/api/robots", undefined)).json()) as {
      robots: Array<{ id: string }>;
    };
    expect(robots.map((robot) => robot.id)).not.toContain(robotId);
    const refused = await execute(user, NUMBERS);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "Robot Analyst is suspended by an administrator.",
    );
    expect((await call(`/api/admin/robots/${robotId}/unsuspend`, admin, { method: "POST" })).status).toBe(
      200,
    );
    expect((await execute(user, NUMBERS)).status).toBe(402);
  });
});

describe("the API describes itself", () => {
  it("/openapi.json covers both plans' routes and /docs renders it without the internet", async () => {
    const spec = (await (await call("/openapi.json", undefined)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/access/purchase",
        "/api/v1/robot/motor/{command}",
        "/api/auth/login",
        "/api/robots",
        "/api/robots/{id}/metrics",
        "/api/execute/{robot_id}",
        "/api/payments/verify",
        "/api/admin/users",
        "/api/admin/robots/{id}/suspend",
      ]),
    );
    const page = await call("/docs", undefined);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    const bundle = await call("/docs/assets/swagger-ui-bundle.js", undefined);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });
});
