import { type PlanPayment, payTransfer } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type ServiceRobot, startServiceRobot } from "@robo402/robot-sim";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// Two server processes sharing nothing but PostgreSQL and Redis behave as one: a robot registered on
// one is sold by the other, rate limits count calls to both, and a payment verified on one reaches a
// WebSocket held by the other. Needs real engines: CI's second pass sets DATABASE_URL and REDIS_URL.
const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

describe.runIf(shared)("two instances on one PostgreSQL and Redis", () => {
  let chain: Devchain;
  let analyst: ServiceRobot;
  let storage: TestStorage;
  let a: ServerProcess;
  let b: ServerProcess;
  let token: string;
  let robotId: string;

  const account = (i: number) => chain.accounts[i] ?? expect.unreachable();

  beforeAll(async () => {
    chain = await startDevchain();
    analyst = await startServiceRobot({ kind: "data-analysis" });
    storage = await testStorage();
    const env = {
      ...storage.env,
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      PAYMENT_ENABLED: "true",
      X402_NETWORK: "local",
      FACILITATOR_URL: chain.facilitatorUrl,
      EVM_RPC_URL: chain.rpcUrl,
      ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
      EXECUTE_RATE_LIMIT: "3",
    };
    // One after the other: the second finds the schema migrated and the JWT secret made by the first.
    a = await startServer(env);
    b = await startServer(env);
    const signedUp = await post(a, "/api/auth/register", {
      email: "owner@robo402.test",
      password: "long-enough-password",
      role: "robot_owner",
    });
    token = ((await signedUp.json()) as { access_token: string }).access_token;
    const created = await post(
      a,
      "/api/robots",
      {
        name: "Analyst",
        price: "0.05",
        wallet_address: account(7).address,
        services: ["data-analysis"],
        endpoint: analyst.url,
      },
      token,
    );
    expect(created.status).toBe(201);
    robotId = ((await created.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await analyst?.close();
    await storage?.drop();
    await chain?.close();
  });

  function post(server: ServerProcess, path: string, body: unknown, bearer?: string) {
    return fetch(`${server.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    });
  }

  it("an account made on one instance logs in on the other, and a robot registered on one is listed by both", async () => {
    const me = await fetch(`${b.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    for (const server of [a, b]) {
      const { robots } = (await (await fetch(`${server.url}/api/robots`)).json()) as {
        robots: Array<{ id: string }>;
      };
      expect(robots.map((robot) => robot.id)).toContain(robotId);
    }
  });

  it("the rate limit counts calls to both instances", async () => {
    const job = { service: "data-analysis", input: { values: [1, 2] } };
    const statuses: number[] = [];
    for (const server of [a, b, a, b]) {
      statuses.push((await post(server, `/api/execute/${robotId}`, job, token)).status);
    }
    expect(statuses).toEqual([402, 402, 402, 429]);
  });

  it("a payment verified on one instance reaches a WebSocket held by the other", async () => {
    // Anonymous (limited by its address, not the account above, which has used its calls).
    const unpaid = await post(a, `/api/execute/${robotId}`, {
      service: "data-analysis",
      input: { values: [3] },
    });
    expect(unpaid.status).toBe(402);
    const session = (await unpaid.json()) as PlanPayment;
    const sessionId = session.session_id;
    const socket = new WebSocket(`${b.url.replace("http", "ws")}/ws/session/${sessionId}`);
    const messages: string[] = [];
    socket.on("message", (data) => messages.push(String(data)));
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });

    const wallet = createWalletClient({
      account: privateKeyToAccount(account(3).privateKey),
      chain: foundry,
      transport: http(chain.rpcUrl),
    }).extend(publicActions);
    // An anonymous caller's transfer proves its session by carrying its id (the SDK's calldata suffix).
    const tx = await payTransfer(wallet, session);
    await wallet.waitForTransactionReceipt({ hash: tx });
    const verified = await post(a, "/api/payments/verify", { session_id: sessionId, tx_signature: tx });
    expect(await verified.json()).toMatchObject({ verified: true });

    await expect.poll(() => messages, { timeout: 10_000 }).toContain(JSON.stringify({ status: "paid" }));
    socket.close();
  });
});
