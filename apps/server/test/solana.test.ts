import { payingFetch, Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { type ServiceRobot, startServiceRobot } from "@robo402/robot-sim";
import {
  type Address,
  appendTransactionMessageInstructions,
  createSolanaRpc,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  type Instruction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import { getAddMemoInstruction } from "@solana-program/memo";
import {
  findAssociatedTokenPda,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { openPaymentNetworks } from "../src/payments/networks.ts";
import {
  type CallInit,
  callAs,
  signUp as signUpAs,
  startTestPlatform,
  type TestPlatform,
} from "./helpers.ts";

// Solana end to end on the devchain's real SVM (litesvm with the SPL Token and Memo programs, behind
// its JSON-RPC) and its x402 facilitator, beside the EVM chain: the platform accepts both at once.
// x402 `exact` on Solana for a purchase and a call, and the plan's transfer-with-memo-then-verify flow
// with each way a transfer can fail to pay. Nothing about payment is mocked.
const ROBOT = "finland-tumbller-01";
const SESSION_PRICE = 100_000n; // $0.10
const CALL_PRICE = 50_000n; // $0.05
const MEMO_V2 = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr" as Address;
const NUMBERS = { service: "data-analysis", input: { values: [1, 2, 3, 4] } };

let chain: Devchain;
let t: TestPlatform;
let analyst: ServiceRobot;
let owner: string;
let user: string;
let robotId: string;

const sol = (i: number) => chain.solana.accounts[i] ?? expect.unreachable();
const evm = (i: number) => chain.accounts[i] ?? expect.unreachable();
const balance = (i: number, mint?: Address) => chain.solana.runtime.balanceOf(sol(i).address, mint);
const platformPayee = () => sol(8);
const robotOwner = () => sol(7);

beforeAll(async () => {
  chain = await startDevchain();
  analyst = await startServiceRobot({ kind: "data-analysis" });
  t = await startTestPlatform({
    robots: [ROBOT],
    env: {
      PAYMENT_ENABLED: "true",
      X402_NETWORKS: "local,solana-local",
      FACILITATOR_URL: chain.facilitatorUrl,
      EVM_RPC_URL: chain.rpcUrl,
      PAYMENT_ADDRESS: evm(8).address,
      SOLANA_RPC_URL: chain.solana.rpcUrl,
      SOLANA_USDC_MINT: chain.solana.mint,
      SOLANA_PAYMENT_ADDRESS: platformPayee().address,
      ROBOT_NETWORKS_ALLOWED: "127.0.0.0/8",
      EXECUTE_RATE_LIMIT: "100",
    },
  });
  owner = await signUp("owner@robo402.test", "robot_owner");
  user = await signUp("user@robo402.test", "user");
  const created = await call("/api/robots", owner, {
    method: "POST",
    body: {
      name: "Analyst",
      price: "0.05",
      wallet_address: evm(7).address,
      solana_address: robotOwner().address,
      services: ["data-analysis"],
      endpoint: analyst.url,
    },
  });
  expect(created.status).toBe(201);
  const robot = (await created.json()) as { id: string; solana_address: string };
  expect(robot.solana_address).toBe(robotOwner().address);
  robotId = robot.id;
});
afterAll(async () => {
  await t?.close();
  await analyst?.close();
  await chain?.close();
});

const call = (path: string, token: string | undefined, init?: CallInit) => callAs(t, path, token, init);
const signUp = (email: string, role: string) => signUpAs(t, email, role);

const execute = (body: unknown, headers: Record<string, string> = {}) =>
  call(`/api/execute/${robotId}`, user, { method: "POST", body, headers });

const inProcess = async (input: RequestInfo | URL, init?: RequestInit) =>
  t.platform.app.request(new Request(input, init));

/** A plain SPL transfer signed and sent by keypair `from` (who pays its fee), as a wallet would send it. */
async function transfer(
  from: number,
  to: Address,
  amount: bigint,
  options: { memo?: string; memos?: string[]; mint?: Address } = {},
): Promise<string> {
  const payer = sol(from).signer;
  const mint = options.mint ?? (chain.solana.mint as Address);
  const ata = async (owner: Address) =>
    (await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS }))[0];
  const instructions: Instruction[] = [
    getTransferCheckedInstruction({
      source: await ata(payer.address),
      mint,
      destination: await ata(to),
      authority: payer,
      amount,
      decimals: 6,
    }),
  ];
  // The Memo program every cluster (and litesvm) has; @solana-program/memo defaults to a newer one.
  for (const memo of [...(options.memo === undefined ? [] : [options.memo]), ...(options.memos ?? [])])
    instructions.push(getAddMemoInstruction({ memo }, { programAddress: MEMO_V2 }));
  const rpc = createSolanaRpc(chain.solana.rpcUrl);
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  const signed = await signTransactionMessageWithSigners(
    pipe(
      createTransactionMessage({ version: 0 }),
      (message) => setTransactionMessageFeePayerSigner(payer, message),
      (message) => setTransactionMessageLifetimeUsingBlockhash(blockhash, message),
      (message) => appendTransactionMessageInstructions(instructions, message),
    ),
  );
  return rpc.sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: "base64" }).send();
}

/** A fresh 402 on Solana: the plan's session, to be paid to `recipient` with the session id as memo. */
async function solanaSession() {
  const response = await execute(NUMBERS, { "x-payment-network": "solana-local" });
  expect(response.status).toBe(402);
  return (await response.json()) as {
    session_id: string;
    recipient: Address;
    asset: string;
    network: string;
  };
}

const verify = (sessionId: string, tx: string) =>
  call("/api/payments/verify", user, { method: "POST", body: { session_id: sessionId, tx_signature: tx } });

describe("x402 exact on Solana", () => {
  it("a purchase's 402 offers both networks: test USDC on the EVM chain and the SPL mint on Solana", async () => {
    const response = await t.purchase(sol(1).address, ROBOT);
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
    expect(required.accepts).toEqual([
      expect.objectContaining({ network: "eip155:31337", asset: chain.token.address, payTo: evm(8).address }),
      expect.objectContaining({
        scheme: "exact",
        network: chain.solana.network,
        amount: SESSION_PRICE.toString(),
        asset: chain.solana.mint,
        payTo: platformPayee().address,
        extra: expect.objectContaining({ feePayer: sol(9).address }),
      }),
    ]);
  });

  it("with X-Payment-Network, that network's offer comes first; without a payment it is 'Payment required', not refused", async () => {
    const response = await t.request("/api/v1/access/purchase", {
      method: "POST",
      headers: { "content-type": "application/json", "x-payment-network": "solana-local" },
      body: JSON.stringify({ robot_host: ROBOT }),
    });
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
    expect(required.accepts.map((offer) => offer.network)).toEqual([chain.solana.network, "eip155:31337"]);
    const body = (await response.json()) as { detail: string; accepts: Array<{ network: string }> };
    expect(body.detail).toBe("Payment required: pay as `accepts` describes and retry.");
    expect(body.accepts[0]?.network).toBe(chain.solana.network);
  });

  it("buys time with a Solana keypair and drives; exactly the price moves, the facilitator pays the fee", async () => {
    const before = { payer: await balance(1), payee: await balance(8) };
    const lamports = chain.solana.runtime.svm.getBalance(sol(1).address);
    const client = new Robo402Client({
      baseUrl: "http://robo402.test",
      solana: { secretKey: sol(1).secretKey, rpcUrl: chain.solana.rpcUrl },
      fetch: inProcess,
    });
    const purchase = await client.buy(ROBOT);
    expect(purchase.status).toBe("success");
    expect(purchase.settlement).toMatchObject({ network: chain.solana.network, payer: sol(1).address });
    expect(purchase.payment_tx).toBe(purchase.settlement?.transaction);
    expect(await balance(1)).toBe(before.payer - SESSION_PRICE);
    expect(await balance(8)).toBe(before.payee + SESSION_PRICE);
    expect(chain.solana.runtime.svm.getBalance(sol(1).address)).toBe(lamports);

    expect(await client.drive("forward")).toEqual({ status: "ok", command: "forward" });
    expect(t.sims[0]?.commands().at(-1)?.command).toBe("forward");
    await client.release();
  });

  it("the same signed Solana payment sent twice is charged once", async () => {
    let signed = "";
    const capture = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      signed = request.headers.get("payment-signature") ?? signed;
      return inProcess(request);
    };
    const pay = payingFetch({
      solana: { secretKey: sol(2).secretKey, rpcUrl: chain.solana.rpcUrl },
      maxAmount: 1_000_000n,
      fetch: capture,
    });
    const before = await balance(2);
    const body = JSON.stringify({ robot_host: ROBOT });
    const first = await pay("http://robo402.test/api/v1/access/purchase", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(first.status).toBe(200);
    const replay = await inProcess("http://robo402.test/api/v1/access/purchase", {
      method: "POST",
      headers: { "content-type": "application/json", "payment-signature": signed },
      body,
    });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/already used/);
    expect(await balance(2)).toBe(before - SESSION_PRICE);
  });

  it("pays a call to the owner's Solana address; a failing robot is not charged", async () => {
    const pay = payingFetch({
      solana: { secretKey: sol(3).secretKey, rpcUrl: chain.solana.rpcUrl },
      maxAmount: 1_000_000n,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        request.headers.set("authorization", `Bearer ${user}`);
        return inProcess(request);
      },
    });
    const before = { payer: await balance(3), owner: await balance(7) };
    const init = () => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(NUMBERS),
    });
    analyst.faults = { errorStatus: 503 };
    const failed = await pay(`http://robo402.test/api/execute/${robotId}`, init());
    analyst.faults = {};
    expect(failed.status).toBe(502);
    expect(await balance(3)).toBe(before.payer);

    const paid = await pay(`http://robo402.test/api/execute/${robotId}`, init());
    expect(paid.status).toBe(200);
    const result = (await paid.json()) as { data: { count: number }; payment_tx: string };
    expect(result.data.count).toBe(4);
    // A Solana signature is base58: case matters, so it is kept exactly as the chain gave it.
    const settlement = decodePaymentResponseHeader(paid.headers.get("payment-response") ?? "");
    expect(result.payment_tx).toBe(settlement.transaction);
    expect(result.payment_tx).not.toBe(result.payment_tx.toLowerCase());
    expect(await balance(3)).toBe(before.payer - CALL_PRICE);
    expect(await balance(7)).toBe(before.owner + CALL_PRICE);
  });

  it("a robot without a Solana address is offered on EVM only", async () => {
    const created = await call("/api/robots", owner, {
      method: "POST",
      body: {
        name: "EVM only",
        price: "0.05",
        wallet_address: evm(6).address,
        services: ["data-analysis"],
        endpoint: analyst.url,
      },
    });
    const { id } = (await created.json()) as { id: string };
    const response = await call(`/api/execute/${id}`, user, { method: "POST", body: NUMBERS });
    const required = decodePaymentRequiredHeader(response.headers.get("payment-required") ?? "");
    expect(required.accepts.map((offer) => offer.network)).toEqual(["eip155:31337"]);
    const onSolana = await call(`/api/execute/${id}`, user, {
      method: "POST",
      body: NUMBERS,
      headers: { "x-payment-network": "solana-local" },
    });
    expect(onSolana.status).toBe(422);
    expect(((await onSolana.json()) as { detail: string }).detail).toMatch(
      /cannot be paid on 'solana-local'/,
    );
  });

  it("a Solana payout address that is not a base58 32-byte key is refused with the field named", async () => {
    const response = await call(`/api/robots/${robotId}`, owner, {
      method: "PATCH",
      body: { solana_address: "0xnot-a-solana-key" },
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toMatch(
      /solana_address.*base58-encoded 32-byte public key/,
    );
  });
});

describe("the plan's flow on Solana: transfer with the session id as memo, verify, retry", () => {
  it("pays, verifies, runs once; the recipient gains exactly the price", async () => {
    const session = await solanaSession();
    expect(session).toMatchObject({
      network: "solana-local",
      recipient: robotOwner().address,
      asset: chain.solana.mint,
    });
    const before = { payer: await balance(4), owner: await balance(7) };
    const tx = await transfer(4, session.recipient, CALL_PRICE, { memo: session.session_id });
    const verified = await verify(session.session_id, tx);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({
      verified: true,
      session_id: session.session_id,
      tx_signature: tx,
    });
    expect(await balance(4)).toBe(before.payer - CALL_PRICE);
    expect(await balance(7)).toBe(before.owner + CALL_PRICE);

    const paid = await execute(NUMBERS, { "x-session-id": session.session_id });
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({
      success: true,
      session_id: session.session_id,
      payment_tx: tx,
    });
    expect((await execute(NUMBERS, { "x-session-id": session.session_id })).status).toBe(409);

    // The same signature offered for another session already paid the first: refused before the chain is asked.
    const next = await solanaSession();
    const again = await verify(next.session_id, tx);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ verified: false, code: "reused" });
    expect((await execute(NUMBERS, { "x-session-id": next.session_id })).status).toBe(402);
  });

  it("one transfer naming two sessions in its memos pays only the first verified: the signature is used once", async () => {
    const [first, second] = [await solanaSession(), await solanaSession()];
    const tx = await transfer(5, first.recipient, 2n * CALL_PRICE, {
      memo: first.session_id,
      memos: [second.session_id],
    });
    expect((await verify(first.session_id, tx)).status).toBe(200);
    const reused = await verify(second.session_id, tx);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ verified: false, code: "reused" });
    expect((await execute(NUMBERS, { "x-session-id": second.session_id })).status).toBe(402);
  });

  it.each([
    [
      "wrong_memo",
      /carries the memo "another session"/,
      async (s: { recipient: Address }) => transfer(5, s.recipient, CALL_PRICE, { memo: "another session" }),
    ],
    [
      "wrong_memo",
      /carries no memo/,
      async (s: { recipient: Address }) => transfer(5, s.recipient, CALL_PRICE),
    ],
    [
      "wrong_mint",
      /transfers mint/,
      async (s: { recipient: Address; session_id: string }) =>
        transfer(5, s.recipient, CALL_PRICE, { memo: s.session_id, mint: await otherMint() }),
    ],
    [
      "wrong_recipient",
      /not to .*associated token account/,
      async (s: { session_id: string }) => transfer(5, sol(6).address, CALL_PRICE, { memo: s.session_id }),
    ],
    [
      "amount_too_low",
      /pays 0\.049999 .* but 0\.05 is due/,
      async (s: { recipient: Address; session_id: string }) =>
        transfer(5, s.recipient, CALL_PRICE - 1n, { memo: s.session_id }),
    ],
    ["malformed", /not a Solana transaction signature/, async () => "0x1234"],
    ["not_found", /not on this cluster/, async () => "1".repeat(64)],
  ] as const)("refuses a transfer with %s (%s) and grants nothing", async (code, reason, send) => {
    const session = await solanaSession();
    const tx = await send(session);
    const refused = await verify(session.session_id, tx);
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { verified: boolean; code: string; error: string };
    expect(body).toMatchObject({ verified: false, code });
    expect(body.error).toMatch(reason);
    expect((await execute(NUMBERS, { "x-session-id": session.session_id })).status).toBe(402);
  });

  it("refuses an unconfirmed transfer, then accepts it once confirmed", async () => {
    const session = await solanaSession();
    chain.solana.runtime.setConfirming(false);
    let tx: string;
    try {
      tx = await transfer(5, session.recipient, CALL_PRICE, { memo: session.session_id });
      const early = await verify(session.session_id, tx);
      expect(early.status).toBe(400);
      expect(await early.json()).toMatchObject({ verified: false, code: "unconfirmed" });
      expect((await execute(NUMBERS, { "x-session-id": session.session_id })).status).toBe(402);
    } finally {
      chain.solana.runtime.setConfirming(true);
    }
    expect((await verify(session.session_id, tx)).status).toBe(200);
  });
});

let mint: Address | undefined;
async function otherMint(): Promise<Address> {
  mint ??= await chain.solana.runtime.createMint();
  return mint;
}

describe("Solana configuration", () => {
  it("solana-devnet takes Circle's devnet USDC through x402.org, paid to SOLANA_PAYMENT_ADDRESS", async () => {
    const config = loadConfig({
      X402_NETWORK: "solana-devnet",
      SOLANA_PAYMENT_ADDRESS: sol(8).address,
      PUBLIC_URL: "https://robots.example.com",
    });
    const [network] = await openPaymentNetworks(config);
    expect(network).toMatchObject({
      name: "solana-devnet",
      family: "svm",
      id: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
      asset: { address: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", decimals: 6 },
      payTo: sol(8).address,
      facilitatorUrl: "https://x402.org/facilitator",
      rpcUrl: "https://api.devnet.solana.com",
    });
  });

  it("refuses solana without a payee, and a payee that is not a Solana address, naming the variable", async () => {
    const devnet = loadConfig({ X402_NETWORK: "solana-devnet", PUBLIC_URL: "https://robots.example.com" });
    await expect(openPaymentNetworks(devnet)).rejects.toThrow(
      new ConfigError("SOLANA_PAYMENT_ADDRESS: needed with solana-devnet"),
    );
    expect(() => loadConfig({ SOLANA_PAYMENT_ADDRESS: evm(8).address })).toThrow(
      /SOLANA_PAYMENT_ADDRESS: expected a Solana address \(base58, 32 bytes\)/,
    );
    expect(() => loadConfig({ X402_NETWORKS: "local,solana-mainnet" })).toThrow(
      /X402_NETWORKS: expected networks among/,
    );
  });
});
