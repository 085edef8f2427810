import { type Devchain, startDevchain } from "@robo402/devchain";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { x402Client } from "@x402/fetch";
import { count } from "drizzle-orm";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payments } from "../src/db/schema.ts";
import { isAuthorizationUsed } from "../src/payments/families/evm/authorization.ts";
import { localChainEnv, startTestPlatform, type TestPlatform } from "./helpers.ts";

// The rule: bad input gets a clear 4xx. Every refused payment header — malformed, truncated, for
// another network or asset, too little, outside its time window, badly signed, from an empty wallet — is a
// 400 or 402 whose `detail` names the problem (our sentence, or x402's or the facilitator's reason), never
// a 5xx; no money moves, no session opens, and nothing is written: the refusal is counted on /metrics, and
// the ledger never holds a row whose payer or amount only a header claimed. Nothing is mocked: anvil, the test USDC and the x402 facilitator are
// real, and every payment starts as @x402/evm's client signs it for the server's own 402.
const ROBOT = "finland-tumbller-01";
const OTHER_ASSET = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"; // Base Sepolia USDC

let chain: Devchain;
let t: TestPlatform;
/** The server's own 402, as a client receives it. */
let required: PaymentRequired;
let requirements: PaymentRequirements;

beforeAll(async () => {
  chain = await startDevchain();
  t = await startTestPlatform({
    robots: [ROBOT],
    env: {
      ...localChainEnv(chain, payee()),
    },
  });
  const unpaid = await purchase();
  expect(unpaid.status).toBe(402);
  required = decodePaymentRequiredHeader(unpaid.headers.get("payment-required") ?? "");
  requirements = required.accepts[0] ?? expect.unreachable();
});
afterAll(async () => {
  await t?.close();
  await chain?.close();
});

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const payee = () => account(8).address;
const now = () => BigInt(Math.floor(Date.now() / 1000));

function purchase(paymentSignature?: string) {
  return t.request("/api/v1/access/purchase", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(paymentSignature === undefined ? {} : { "payment-signature": paymentSignature }),
    },
    body: JSON.stringify({ robot_host: ROBOT }),
  });
}

/** A payment exactly as a client makes it from the server's 402: @x402/evm's `exact` scheme via x402Client. */
async function realPayment(privateKey: `0x${string}` = account(1).privateKey): Promise<PaymentPayload> {
  const client = x402Client.fromConfig({
    schemes: [{ network: "eip155:*", client: new ExactEvmScheme(privateKeyToAccount(privateKey)) }],
    spendControls: {
      allowedAssets: [
        {
          network: requirements.network,
          asset: requirements.asset,
          maxAmountPerPayment: requirements.amount,
        },
      ],
    },
  });
  return client.createPaymentPayload(structuredClone(required));
}

interface Authorization {
  from: `0x${string}`;
  to: `0x${string}`;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: `0x${string}`;
}
const authorizationOf = (payload: PaymentPayload) =>
  (payload.payload as { authorization: Authorization; signature: `0x${string}` }).authorization;

/**
 * A real payment with some authorization fields changed and signed again, the way @x402/evm's client signs
 * EIP-3009's TransferWithAuthorization over the token's EIP-712 domain: so the one change is the only fault.
 */
async function resigned(
  change: Partial<Omit<Authorization, "from" | "nonce">>,
  accepted: Partial<PaymentRequirements> = {},
  privateKey: `0x${string}` = account(1).privateKey,
): Promise<PaymentPayload> {
  const payload = await realPayment(privateKey);
  const authorization = { ...authorizationOf(payload), ...change };
  const signature = await privateKeyToAccount(privateKey).signTypedData({
    domain: { name: "USD Coin", version: "2", chainId: 31337, verifyingContract: chain.token.address },
    types: {
      TransferWithAuthorization: [
        { name: "from", type: "address" },
        { name: "to", type: "address" },
        { name: "value", type: "uint256" },
        { name: "validAfter", type: "uint256" },
        { name: "validBefore", type: "uint256" },
        { name: "nonce", type: "bytes32" },
      ],
    },
    primaryType: "TransferWithAuthorization",
    message: {
      ...authorization,
      value: BigInt(authorization.value),
      validAfter: BigInt(authorization.validAfter),
      validBefore: BigInt(authorization.validBefore),
    },
  });
  return {
    ...payload,
    accepted: { ...payload.accepted, ...accepted },
    payload: { authorization, signature },
  };
}

const ledgerRows = async () =>
  (await t.platform.database.db.select({ n: count() }).from(payments))[0]?.n ?? expect.unreachable();

interface Refusal {
  /** What goes in PAYMENT-SIGNATURE. */
  header: string;
  status: 400 | 402;
  /** The whole `detail` sentence, exactly. */
  detail: string;
  /** The payload the header carries, when it carries an authorization (for balances and the ledger). */
  payment?: PaymentPayload;
}

/** How many refusals /metrics has counted for `reason`. */
async function refusalsCounted(reason: string): Promise<number> {
  const text = await (await t.request("/metrics")).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`robo402_payment_refusals_total{reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/**
 * Sends `header` and proves the refusal: the status and the sentence, no money moved, no session, and
 * no ledger row: a refused header is counted (metrics), never recorded, so no later payment can inherit
 * a payer or amount it claimed. Sent twice, as a client that retries blindly would: the answer and the
 * ledger stay the same.
 */
async function expectRefused({ header, status, detail, payment }: Refusal): Promise<void> {
  const auth = payment && authorizationOf(payment);
  const payer = auth?.from ?? account(1).address;
  const balances = () => Promise.all([chain.balanceOf(payer), chain.balanceOf(payee())]);
  const reason = status === 400 ? "malformed" : detail.replace(/^Payment refused: /, "");
  const [before, rowsBefore, countedBefore] = await Promise.all([
    balances(),
    ledgerRows(),
    refusalsCounted(reason),
  ]);

  for (const attempt of [1, 2]) {
    const response = await purchase(header);
    const body = (await response.json()) as { detail?: unknown };
    expect({ attempt, status: response.status, detail: body.detail }).toEqual({ attempt, status, detail });
  }

  expect(await balances()).toEqual(before);
  const robot = await (await t.request(`/api/v1/robot/status?robot_host=${ROBOT}`)).json();
  expect(robot).toMatchObject({ available: true });
  expect(await ledgerRows()).toBe(rowsBefore);
  expect(await refusalsCounted(reason)).toBe(countedBefore + 2);
  if (!auth) return;
  // The token never consumed the authorization: it could not have been settled.
  expect(
    await isAuthorizationUsed(chain.rpcUrl, chain.token.address, {
      payer: auth.from,
      nonce: auth.nonce,
    }),
  ).toBe(false);
}

const NOT_A_PAYMENT = "Payment header is not an x402 payment (expected base64-encoded JSON).";
const base64 = (text: string) => Buffer.from(text).toString("base64");

describe("a payment header that is not a payment → 400, nothing written", () => {
  it.each([
    ["garbage that is not base64", "not base64 !!"],
    ["base64 of text that is not JSON", base64("hello, robot")],
    ["base64 of truncated JSON", base64('{"x402Version":2,"accepted":')],
  ])("%s", async (_, header) => {
    await expectRefused({ header, status: 400, detail: NOT_A_PAYMENT });
  });

  it("a real payment header cut in half", async () => {
    const header = encodePaymentSignatureHeader(await realPayment());
    for (const cut of [Math.floor(header.length / 2), Math.floor(header.length / 2) + 1]) {
      await expectRefused({ header: header.slice(0, cut), status: 400, detail: NOT_A_PAYMENT });
    }
  });

  it.each([
    ["null", "null", "Expected object, received null"],
    ["a number", "42", "Expected object, received number"],
    ["zero", "0", "Expected object, received number"],
    ["false", "false", "Expected object, received boolean"],
    ["a string", '"pay me"', "Expected object, received string"],
    ["an array", "[]", "Expected object, received array"],
    ["an empty object", "{}", "x402Version: Invalid discriminator value. Expected 1 | 2"],
    [
      "an unknown x402 version",
      '{"x402Version":7}',
      "x402Version: Invalid discriminator value. Expected 1 | 2",
    ],
    ["an x402 version and nothing else", '{"x402Version":2}', "accepted: Required; payload: Required"],
  ])("valid base64 of JSON that is not a payload: %s", async (_, json, problem) => {
    await expectRefused({
      header: base64(json),
      status: 400,
      detail: `Payment header is not an x402 payment payload (${problem}).`,
    });
  });

  it("a payment that does not say which requirements it accepts", async () => {
    const { accepted: _, ...payment } = await realPayment();
    await expectRefused({
      header: base64(JSON.stringify(payment)),
      status: 400,
      detail: "Payment header is not an x402 payment payload (accepted: Required).",
    });
  });

  // Unchecked, these reached the facilitator, which crashed on them ("Cannot read properties of undefined
  // (reading 'from')", "Cannot convert abc to a BigInt"): a 402 saying "Facilitator verify failed (500)".
  it.each([
    [
      "no authorization at all",
      (_: Authorization, signature: string) => ({ signature }),
      "payload.authorization: Invalid input: expected object, received undefined",
    ],
    [
      "no signature",
      (authorization: Authorization) => ({ authorization }),
      "payload.signature: Invalid input: expected string, received undefined",
    ],
    [
      "numbers that are not numbers",
      (authorization: Authorization, signature: string) => ({
        authorization: { ...authorization, value: "abc", validBefore: "-1" },
        signature,
      }),
      "payload.authorization.value: expected a decimal integer string; payload.authorization.validBefore: expected a decimal integer string",
    ],
    [
      "a recipient that is not an address",
      (authorization: Authorization, signature: string) => ({
        authorization: { ...authorization, to: "the robot" },
        signature,
      }),
      "payload.authorization.to: expected a 0x-prefixed 20-byte address",
    ],
  ])("an EIP-3009 authorization with %s", async (_, spoil, problem) => {
    const payment = await realPayment();
    const { authorization, signature } = payment.payload as {
      authorization: Authorization;
      signature: string;
    };
    await expectRefused({
      header: encodePaymentSignatureHeader({ ...payment, payload: spoil(authorization, signature) }),
      status: 400,
      detail: `Payment is not a well-formed EIP-3009 authorization, the only kind accepted here (${problem}).`,
    });
  });
});

describe("a payment that cannot be this purchase → 402 with the reason, no ledger row", () => {
  it("the well-formed payment the cases below spoil is accepted", async () => {
    const response = await purchase(encodePaymentSignatureHeader(await realPayment(account(2).privateKey)));
    expect(response.status).toBe(200);
    const { session } = (await response.json()) as { session: { token: string } };
    const released = await t.request("/api/v1/access/release", {
      method: "POST",
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(released.status).toBe(200);
  });

  it("for another network", async () => {
    const payment = await realPayment();
    payment.accepted = { ...payment.accepted, network: "eip155:84532" };
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: No matching payment requirements",
      payment,
    });
  });

  it("in another asset", async () => {
    const payment = await realPayment();
    payment.accepted = { ...payment.accepted, asset: OTHER_ASSET };
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: No matching payment requirements",
      payment,
    });
  });

  it("for less than the price, claimed as the price it accepts", async () => {
    const payment = await resigned({ value: "99999" }, { amount: "99999" });
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: No matching payment requirements",
      payment,
    });
  });

  it("for less than the price it accepts", async () => {
    const payment = await resigned({ value: "1" });
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_payload_authorization_value_mismatch",
      payment,
    });
  });

  it("to someone other than payTo", async () => {
    const payment = await resigned({ to: account(7).address });
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_recipient_mismatch",
      payment,
    });
  });

  it("expired", async () => {
    const payment = await resigned({ validBefore: (now() - 60n).toString() });
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_payload_authorization_valid_before",
      payment,
    });
  });

  it("not valid yet", async () => {
    const payment = await resigned({ validAfter: (now() + 3600n).toString() });
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_payload_authorization_valid_after",
      payment,
    });
  });

  it("with a signature byte flipped", async () => {
    const payment = await realPayment();
    const body = payment.payload as { signature: string };
    const at = 2 + 2 * 10; // a byte inside r
    const flipped = (Number.parseInt(body.signature.slice(at, at + 2), 16) ^ 0xff)
      .toString(16)
      .padStart(2, "0");
    body.signature = `${body.signature.slice(0, at)}${flipped}${body.signature.slice(at + 2)}`;
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_signature",
      payment,
    });
  });

  it("with the amount changed after signing", async () => {
    const payment = await realPayment();
    authorizationOf(payment).value = "1";
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_signature",
      payment,
    });
  });

  it("with a signature that is not one", async () => {
    const payment = await realPayment();
    (payment.payload as { signature: string }).signature = "0xdeadbeef";
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_signature",
      payment,
    });
  });

  it("under another scheme", async () => {
    const payment = await realPayment();
    payment.accepted = { ...payment.accepted, scheme: "upto" };
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: No matching payment requirements",
      payment,
    });
  });

  it("from a wallet without funds", async () => {
    const payment = await realPayment(generatePrivateKey());
    await expectRefused({
      header: encodePaymentSignatureHeader(payment),
      status: 402,
      detail: "Payment refused: invalid_exact_evm_insufficient_balance",
      payment,
    });
  });
});
