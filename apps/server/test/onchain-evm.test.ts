import { type Devchain, startDevchain, testUsdcAbi } from "@robo402/devchain";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  type Hash,
  HttpRequestError,
  http,
  keccak256,
  type PublicClient,
  parseAbi,
  publicActions,
  type TestClient,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmTransferVerifier } from "../src/payments/onchain/evm.ts";
import type { TransferClaim, TransferVerifier } from "../src/payments/onchain/types.ts";

// Real chain: anvil with the test USDC and a second token; nothing is mocked.
const PRICE = 100_000n; // 0.10 in 6-decimal test USDC
// The devchain's Multicall3 (at every chain's address for it), which has only tryAggregate.
const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11";
const multicall3Abi = parseAbi([
  "function tryAggregate(bool requireSuccess, (address target, bytes callData)[] calls) payable returns ((bool success, bytes returnData)[])",
]);

let chain: Devchain;
let otherToken: `0x${string}`;
let reader: PublicClient;
let anvil: TestClient;
let verifier: TransferVerifier;
beforeAll(async () => {
  chain = await startDevchain();
  otherToken = await chain.deployToken();
  reader = createPublicClient({ chain: foundry, transport: http(chain.rpcUrl) });
  anvil = createTestClient({ chain: foundry, mode: "anvil", transport: http(chain.rpcUrl) });
  verifier = evmTransferVerifier({ rpcUrl: chain.rpcUrl, confirmations: 1 });
});
afterAll(async () => {
  await chain?.close();
});

const account = (i: number) => chain.accounts[i] ?? expect.unreachable();
const payee = () => account(8).address;
const wallet = (i: number) =>
  createWalletClient({
    account: privateKeyToAccount(account(i).privateKey),
    chain: foundry,
    transport: http(chain.rpcUrl),
    pollingInterval: 50,
  }).extend(publicActions);

/** Sends `amount` of `token` from account `from` to `to`, without waiting for it to be mined. */
const send = (from: number, to: `0x${string}`, amount: bigint, token = chain.token.address) =>
  wallet(from).writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "transfer",
    args: [to, amount],
  });

/** Sends and waits until mined. */
async function transfer(from: number, to: `0x${string}`, amount: bigint, token = chain.token.address) {
  const hash = await send(from, to, amount, token);
  await reader.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  return hash;
}

/** When the chain's latest block was made: a payment session opened "now" by the chain's clock. */
const chainNow = async () => new Date(Number((await reader.getBlock()).timestamp) * 1000);

const claim = async (txHash: string, overrides: Partial<TransferClaim> = {}): Promise<TransferClaim> => ({
  txHash,
  asset: chain.token.address,
  recipient: payee(),
  minAmount: PRICE,
  notBefore: await chainNow(),
  ...overrides,
});

describe("EVM transfer verification on the local chain", () => {
  it("accepts a transfer of the asset to the recipient and names the payer, amount and block", async () => {
    const notBefore = await chainNow();
    const hash = await transfer(1, payee(), PRICE);
    const receipt = await reader.getTransactionReceipt({ hash });

    // Hashes are hex, so a client that upper-cases one still means the same transaction.
    const upper = `0x${hash.slice(2).toUpperCase()}`;
    const check = await verifier.verify(await claim(upper, { notBefore }));

    expect(check).toEqual({
      ok: true,
      payer: account(1).address.toLowerCase(),
      amount: PRICE,
      blockNumber: receipt.blockNumber,
      txHash: hash.toLowerCase(),
    });
  });

  it("sums a sender's transfers and credits the account the tokens left, not the one that sent the transaction", async () => {
    // Account 1 lets Multicall3 move its tokens; account 3 relays two half payments through it.
    await reader.waitForTransactionReceipt({
      hash: await wallet(1).writeContract({
        address: chain.token.address,
        abi: testUsdcAbi,
        functionName: "approve",
        args: [MULTICALL3, PRICE],
      }),
    });
    const half = encodeFunctionData({
      abi: testUsdcAbi,
      functionName: "transferFrom",
      args: [account(1).address, payee(), PRICE / 2n],
    });
    const hash = await wallet(3).writeContract({
      address: MULTICALL3,
      abi: multicall3Abi,
      functionName: "tryAggregate",
      args: [
        true,
        [
          { target: chain.token.address, callData: half },
          { target: chain.token.address, callData: half },
        ],
      ],
    });
    await reader.waitForTransactionReceipt({ hash });

    const check = await verifier.verify(await claim(hash, { payer: account(1).address }));
    expect(check).toMatchObject({ ok: true, payer: account(1).address.toLowerCase(), amount: PRICE });
  });

  it.each(["0x1234", "not a hash", `0x${"g".repeat(64)}`, `${"a".repeat(64)}`])(
    "refuses %j as malformed",
    async (txHash) => {
      const check = await verifier.verify(await claim(txHash));
      expect(check).toEqual({
        ok: false,
        code: "malformed",
        reason: `"${txHash}" is not an EVM transaction hash: expected 0x followed by 64 hex digits.`,
      });
    },
  );

  it("refuses a hash the chain has never seen as not_found", async () => {
    const unknown = keccak256(toHex("never sent"));
    const check = await verifier.verify(await claim(unknown));
    expect(check).toMatchObject({ ok: false, code: "not_found" });
    expect(check.ok || check.reason).toMatch(
      new RegExp(`^Transaction ${unknown} is not on this chain; check the hash`),
    );
  });

  it("refuses a transfer that reverted", async () => {
    // More than the account holds; an explicit gas limit skips estimation, which would refuse to send it.
    const hash = await wallet(2).writeContract({
      address: chain.token.address,
      abi: testUsdcAbi,
      functionName: "transfer",
      args: [payee(), 10n ** 12n],
      gas: 100_000n,
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe("reverted");

    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "reverted",
      reason: `Transaction ${hash} failed on chain (reverted) and moved no tokens; send a new transfer.`,
    });
  });

  it("refuses another token sent to the recipient as wrong_asset", async () => {
    const hash = await transfer(1, payee(), PRICE, otherToken);
    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "wrong_asset",
      reason: `Transaction ${hash} sends token ${otherToken} to ${payee()}, not ${chain.token.address}; pay in ${chain.token.address}.`,
    });
  });

  it("refuses a transaction that moves no token at all as wrong_asset", async () => {
    const sender = wallet(1);
    const hash = await sender.sendTransaction({ to: payee(), value: 10n ** 15n });
    await reader.waitForTransactionReceipt({ hash });

    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "wrong_asset",
      reason: `Transaction ${hash} moves no ${chain.token.address} tokens; pay with a transfer of ${chain.token.address} to ${payee()}.`,
    });
  });

  it("refuses the asset sent to someone else as wrong_recipient", async () => {
    const stranger = account(7).address;
    const hash = await transfer(1, stranger, PRICE);
    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "wrong_recipient",
      reason: `Transaction ${hash} sends ${chain.token.address} to ${stranger}, not to ${payee()}.`,
    });
  });

  it("refuses less than the price as amount_too_low, in token units", async () => {
    const hash = await transfer(1, payee(), 50_000n);
    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "amount_too_low",
      reason: `Transaction ${hash} pays 0.05 to ${payee()}, but 0.1 is due.`,
    });
  });

  it("refuses a transfer mined more than a minute before the session began as too_old", async () => {
    const hash = await transfer(1, payee(), PRICE);
    const receipt = await reader.getTransactionReceipt({ hash });
    const minedAt = Number((await reader.getBlock({ blockNumber: receipt.blockNumber })).timestamp) * 1000;

    const late = new Date(minedAt + 61_000);
    expect(await verifier.verify(await claim(hash, { notBefore: late }))).toEqual({
      ok: false,
      code: "too_old",
      reason: `Transaction ${hash} was mined at ${new Date(minedAt).toISOString()}, before this payment session began (${late.toISOString()}); it cannot pay for it.`,
    });
    // Within the minute allowed for the block producer's clock, it still pays.
    const skewed = new Date(minedAt + 59_000);
    expect(await verifier.verify(await claim(hash, { notBefore: skewed }))).toMatchObject({ ok: true });
  });

  it("refuses a transfer from another wallet than the linked one as wrong_payer", async () => {
    const hash = await transfer(1, payee(), PRICE);
    const linked = account(2).address;
    expect(await verifier.verify(await claim(hash, { payer: linked }))).toEqual({
      ok: false,
      code: "wrong_payer",
      reason: `Transaction ${hash} pays from ${account(1).address.toLowerCase()}, not from your linked wallet ${linked}.`,
    });
    // The linked wallet is compared without regard to case.
    const sameWallet = account(1).address.toUpperCase().replace("0X", "0x");
    expect(await verifier.verify(await claim(hash, { payer: sameWallet }))).toMatchObject({ ok: true });
  });

  it("calls a pending transaction unconfirmed, and accepts it once mined", async () => {
    const notBefore = await chainNow();
    await anvil.setAutomine(false);
    try {
      const hash = await send(1, payee(), PRICE);
      expect(await verifier.verify(await claim(hash, { notBefore }))).toEqual({
        ok: false,
        code: "unconfirmed",
        reason: `Transaction ${hash} is not mined yet; retry when it is confirmed.`,
      });

      await anvil.mine({ blocks: 1 });
      expect(await verifier.verify(await claim(hash, { notBefore }))).toMatchObject({
        ok: true,
        payer: account(1).address.toLowerCase(),
      });
    } finally {
      await anvil.setAutomine(true);
    }
  });

  it("waits for the configured number of confirmations", async () => {
    const patient = evmTransferVerifier({ rpcUrl: chain.rpcUrl, confirmations: 3 });
    const notBefore = await chainNow();
    const hash = await transfer(1, payee(), PRICE);

    expect(await patient.verify(await claim(hash, { notBefore }))).toEqual({
      ok: false,
      code: "unconfirmed",
      reason: `Transaction ${hash} has 1 of 3 confirmations; retry in a few blocks.`,
    });
    await anvil.mine({ blocks: 1 });
    expect(await patient.verify(await claim(hash, { notBefore }))).toMatchObject({
      ok: false,
      reason: `Transaction ${hash} has 2 of 3 confirmations; retry in a few blocks.`,
    });
    await anvil.mine({ blocks: 1 });
    expect(await patient.verify(await claim(hash, { notBefore }))).toMatchObject({ ok: true, amount: PRICE });
  });

  it("throws, rather than refusing the payment, when the node cannot be reached", async () => {
    const unreachable = evmTransferVerifier({ rpcUrl: "http://127.0.0.1:9", confirmations: 1 });
    const hash: Hash = keccak256(toHex("any"));
    await expect(unreachable.verify(await claim(hash))).rejects.toBeInstanceOf(HttpRequestError);
  });
});
