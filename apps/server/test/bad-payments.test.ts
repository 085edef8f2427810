import { type Devchain, startDevchain } from "@robo402/devchain";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { eq } from "drizzle-orm";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payments } from "../src/db/schema.ts";
import { startTestPlatform, type TestPlatform } from "./helpers.ts";

// Every bad payment gets a 4xx that says what is wrong, moves no money and grants nothing; a payment that
// decodes to an authorization leaves exactly one "rejected" ledger row with its reason. Real chain.
const ROBOT = "finland-tumbller-01";

let chain: Devchain;
let t: TestPlatform;
let requirements: PaymentRequirements;
beforeAll(async () => {
  chain = await startDevchain();
  t = await startTestPlatform({
    robots: [ROBOT],
    env: {
      PAYMENT_ENABLED: "true",
      FACILITATOR_URL: chain.facilitatorUrl,
      EVM_RPC_URL: chain.rpcUrl,
      PAYMENT_ADDRESS: payee(),
    },
  });
  const unpaid = await purchase();
  const [offer] = decodePaymentRequiredHeader(unpaid.headers.get("payment-required") ?? "").accepts;
  requirements = offer ?? expect.unreachable();
});
afterAll(async () => {
  await t?.close();
  await chain?.close();
});

function payee(): `0x${string}` {
  return chain.accounts[8]?.address ?? expect.unreachable();
}

function purchase(paymentHeader?: string) {
  return t.request("/api/v1/access/purchase", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(paymentHeader ? { "payment-signature": paymentHeader } : {}),
    },
    body: JSON.stringify({ robot_host: ROBOT }),
  });
}

/** An EIP-3009 authorization signed like @x402/evm's client does, with the fields a case wants wrong. */
async function signed(
  change: { key?: `0x${string}`; value?: string; validAfter?: bigint; validBefore?: bigint } = {},
): Promise<PaymentPayload> {
  const signer = privateKeyToAccount(change.key ?? chain.accounts[1]?.privateKey ?? expect.unreachable());
  const now = BigInt(Math.floor(Date.now() / 1000));
  const authorization = {
    from: signer.address,
    to: requirements.payTo as `0x${string}`,
    value: BigInt(change.value ?? requirements.amount),
    validAfter: change.validAfter ?? now - 600n,
    validBefore: change.validBefore ?? now + 120n,
    nonce: `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}` as `0x${string}`,
  };
  const signature = await signer.signTypedData({
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
    message: authorization,
  });
  return {
    x402Version: 2,
    accepted: requirements,
    payload: {
      authorization: {
        ...authorization,
        value: authorization.value.toString(),
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
      },
      signature,
    },
  } as PaymentPayload;
}

const nonceOf = (payload: PaymentPayload) =>
  (payload.payload as { authorization: { nonce: string } }).authorization.nonce.toLowerCase();

async function expectRefused(header: string, status: number, detail: RegExp, nonce?: string) {
  const before = await Promise.all([
    chain.balanceOf(chain.accounts[1]?.address ?? "0x"),
    chain.balanceOf(payee()),
  ]);
  const response = await purchase(header);
  expect(response.status).toBe(status);
  const body = (await response.json()) as { detail?: string };
  expect(body.detail).toMatch(detail);
  expect(
    await Promise.all([chain.balanceOf(chain.accounts[1]?.address ?? "0x"), chain.balanceOf(payee())]),
  ).toEqual(before);
  const robot = (await (await t.request(`/api/v1/robot/status?robot_host=${ROBOT}`)).json()) as {
    available: boolean;
  };
  expect(robot.available).toBe(true);
  if (nonce) {
    const rows = await t.platform.database.db.select().from(payments).where(eq(payments.nonce, nonce));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "rejected", reason: expect.any(String) });
  }
}

describe("bad payments are refused with a reason, nothing charged, nothing granted", () => {
  it("a well-signed payment is accepted (the cases below differ from it in one thing)", async () => {
    const payload = await signed();
    const response = await purchase(encodePaymentSignatureHeader(payload));
    expect(response.status).toBe(200);
    await t.request("/api/v1/access/release", {
      method: "POST",
      headers: {
        authorization: `Bearer ${((await response.json()) as { session: { token: string } }).session.token}`,
      },
    });
  });

  it.each([
    ["not base64 at all", "%%%"],
    ["base64 of something that is not JSON", Buffer.from("hello").toString("base64")],
  ])("a header that is %s → 400", async (_, header) => {
    await expectRefused(header, 400, /not an x402 payment/);
  });

  it("a truncated header → 400", async () => {
    const header = encodePaymentSignatureHeader(await signed());
    await expectRefused(header.slice(0, Math.floor(header.length / 2)), 400, /not an x402 payment/);
  });

  it("a payment for another network → 402", async () => {
    const payload = await signed();
    payload.accepted = { ...requirements, network: "eip155:8453" };
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: No matching payment requirements$/,
      nonceOf(payload),
    );
  });

  it("a payment in another asset → 402", async () => {
    const payload = await signed();
    payload.accepted = { ...requirements, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" };
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: No matching payment requirements$/,
      nonceOf(payload),
    );
  });

  it("an amount below the price → 402", async () => {
    const payload = await signed({ value: "1" });
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: invalid_exact_evm_payload_authorization_value_mismatch$/,
      nonceOf(payload),
    );
  });

  it("an expired authorization → 402", async () => {
    const past = BigInt(Math.floor(Date.now() / 1000)) - 60n;
    const payload = await signed({ validBefore: past });
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: invalid_exact_evm_payload_authorization_valid_before$/,
      nonceOf(payload),
    );
  });

  it("an authorization not valid yet → 402", async () => {
    const future = BigInt(Math.floor(Date.now() / 1000)) + 3600n;
    const payload = await signed({ validAfter: future });
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: invalid_exact_evm_payload_authorization_valid_after$/,
      nonceOf(payload),
    );
  });

  it("a bad signature → 402", async () => {
    const payload = await signed();
    const body = payload.payload as { signature: string };
    body.signature = `${body.signature.slice(0, -4)}${body.signature.endsWith("00") ? "11" : "00"}${body.signature.slice(-2)}`;
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: invalid_exact_evm_signature$/,
      nonceOf(payload),
    );
  });

  it("a payer without funds → 402", async () => {
    const payload = await signed({ key: generatePrivateKey() });
    await expectRefused(
      encodePaymentSignatureHeader(payload),
      402,
      /^Payment refused: invalid_exact_evm_insufficient_balance$/,
      nonceOf(payload),
    );
  });
});
