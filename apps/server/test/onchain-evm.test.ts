import { randomUUID } from "node:crypto";
import { type Devchain, startDevchain, testUsdcAbi } from "@robo402/devchain";
import { sessionSuffix } from "@robo402/protocol";
import {
  concat,
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
import { BLOCK_CLOCK_SKEW_MS, evmTransferVerifier } from "../src/payments/families/evm/transfer.ts";
import type { TransferClaim, TransferVerifier } from "../src/payments/families/transfer.ts";

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

// The payment session every claim below is for, unless it names another: its id is the calldata suffix.
const SESSION = randomUUID();

/**
 * Sends `amount` of `token` from account `from` to `to`, without waiting for it to be mined, with
 * `suffix` appended to the calldata (by default this session's id, as the SDK sends it; null: none).
 */
const send = (
  from: number,
  to: `0x${string}`,
  amount: bigint,
  { token = chain.token.address, suffix = sessionSuffix(SESSION) as `0x${string}` | null } = {},
) =>
  wallet(from).writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "transfer",
    args: [to, amount],
    dataSuffix: suffix ?? undefined,
  });

/** Sends and waits until mined. */
async function transfer(
  from: number,
  to: `0x${string}`,
  amount: bigint,
  options: Parameters<typeof send>[3] = {},
) {
  const hash = await send(from, to, amount, options);
  await reader.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  return hash;
}
/** A transfer carrying nothing that says whose it is. */
const plain = (from: number, to: `0x${string}`, amount: bigint) =>
  transfer(from, to, amount, { suffix: null });

/** When the chain's latest block was made: a payment session opened "now" by the chain's clock. */
const chainNow = async () => new Date(Number((await reader.getBlock()).timestamp) * 1000);

const claim = async (txHash: string, overrides: Partial<TransferClaim> = {}): Promise<TransferClaim> => ({
  txHash,
  asset: chain.token.address,
  recipient: payee(),
  minAmount: PRICE,
  notBefore: await chainNow(),
  sessionId: SESSION,
  ...overrides,
});

describe("EVM transfer verification on the local chain", () => {
  it("accepts a transfer of the asset to the recipient carrying the session id, and names the payer, amount and block", async () => {
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
      proof: "suffix",
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

    // Relayed through a contract, the transfer carries no suffix: the wallet linked to the account proves it.
    const check = await verifier.verify(await claim(hash, { linkedWallet: account(1).address }));
    expect(check).toMatchObject({
      ok: true,
      payer: account(1).address.toLowerCase(),
      amount: PRICE,
      proof: "linked_wallet",
    });
    expect(await verifier.verify(await claim(hash))).toMatchObject({ ok: false, code: "unproven_payer" });
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
    const hash = await transfer(1, payee(), PRICE, { token: otherToken });
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

  it("refuses less than the price as amount_too_low, in token units, naming who sent how much", async () => {
    const hash = await transfer(1, payee(), 50_000n);
    const check = await verifier.verify(await claim(hash));
    expect(check).toEqual({
      ok: false,
      code: "amount_too_low",
      reason: `Transaction ${hash} pays 0.05 to ${payee()}, but 0.1 is due.`,
      received: { sender: account(1).address.toLowerCase(), amount: 50_000n, txHash: hash },
    });
  });

  it("refuses a transfer that shows neither the session id nor the linked wallet as unproven_payer", async () => {
    // Before: a transfer without proof credited its largest sender, so anyone could name anyone's transfer.
    const hash = await plain(1, payee(), PRICE);
    const unproven = await verifier.verify(await claim(hash));
    expect(unproven).toMatchObject({
      ok: false,
      code: "unproven_payer",
      received: { sender: account(1).address.toLowerCase(), amount: PRICE, txHash: hash },
    });
    expect(unproven.ok || unproven.reason).toMatch(
      new RegExp(
        `^Transaction ${hash} does not show that it pays session ${SESSION}: its transfer call does not carry the session id as a calldata suffix, and the session's account has no linked wallet it could come from\\. Send the transfer with the session id's 16 bytes appended after transfer's arguments \\(calldata suffix ${sessionSuffix(SESSION)}`,
      ),
    );
    // A wallet linked to the account proves only its own transfers.
    const linked = account(2).address;
    expect(await verifier.verify(await claim(hash, { linkedWallet: linked }))).toMatchObject({
      ok: false,
      code: "unproven_payer",
      reason: expect.stringContaining(`it does not come from ${linked.toLowerCase()}, the wallet linked`),
    });
    // The linked wallet is compared without regard to case.
    const sameWallet = account(1).address.toUpperCase().replace("0X", "0x");
    expect(await verifier.verify(await claim(hash, { linkedWallet: sameWallet }))).toMatchObject({
      ok: true,
      proof: "linked_wallet",
    });
  });

  it("a suffix pays only the session it names, and only right after transfer's arguments", async () => {
    const other = randomUUID();
    const forOther = await transfer(1, payee(), PRICE, { suffix: sessionSuffix(other) });
    expect(await verifier.verify(await claim(forOther))).toMatchObject({ ok: false, code: "unproven_payer" });
    expect(await verifier.verify(await claim(forOther, { sessionId: other }))).toMatchObject({
      ok: true,
      proof: "suffix",
    });

    // A wallet's own attribution bytes after the session id are ignored; the id anywhere else is not read.
    const attributed = await transfer(1, payee(), PRICE, {
      suffix: concat([sessionSuffix(SESSION), "0x1234567890"]),
    });
    expect(await verifier.verify(await claim(attributed))).toMatchObject({ ok: true, proof: "suffix" });
    const late = await transfer(1, payee(), PRICE, { suffix: concat(["0xff", sessionSuffix(SESSION)]) });
    expect(await verifier.verify(await claim(late))).toMatchObject({ ok: false, code: "unproven_payer" });
  });

  it("a transfer proven by the linked wallet and mined before the session began is too_old; a suffixed one is never", async () => {
    const hash = await plain(1, payee(), PRICE);
    const receipt = await reader.getTransactionReceipt({ hash });
    const minedAt = Number((await reader.getBlock({ blockNumber: receipt.blockNumber })).timestamp) * 1000;
    const linkedWallet = account(1).address;

    const late = new Date(minedAt + BLOCK_CLOCK_SKEW_MS + 1000);
    expect(await verifier.verify(await claim(hash, { notBefore: late, linkedWallet }))).toEqual({
      ok: false,
      code: "too_old",
      reason: `Transaction ${hash} was mined at ${new Date(minedAt).toISOString()}, before this payment session began (${late.toISOString()}); it cannot pay for it.`,
      received: { sender: linkedWallet.toLowerCase(), amount: PRICE, txHash: hash },
    });
    // Within the block clock's margin, it still pays.
    const skewed = new Date(minedAt + BLOCK_CLOCK_SKEW_MS - 1000);
    expect(await verifier.verify(await claim(hash, { notBefore: skewed, linkedWallet }))).toMatchObject({
      ok: true,
    });
    // The session id did not exist before the session: a transfer carrying it is not timed.
    const suffixed = await transfer(1, payee(), PRICE);
    const later = new Date(Date.now() + 3_600_000);
    expect(await verifier.verify(await claim(suffixed, { notBefore: later }))).toMatchObject({
      ok: true,
      proof: "suffix",
    });
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
