import {
  AccountRole,
  type Address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createSolanaRpc,
  createTransactionMessage,
  devnet,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  type Instruction,
  isSolanaError,
  type KeyPairSigner,
  pipe,
  type Signature,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__INSTRUCTION_ERROR__MISSING_REQUIRED_SIGNATURE,
  SOLANA_ERROR__JSON_RPC__INVALID_PARAMS,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
  type SolanaError,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import {
  getAddMemoInstruction,
  LEGACY_MEMO_PROGRAM_ADDRESS_V1,
  LEGACY_MEMO_PROGRAM_ADDRESS_V3,
  MEMO_PROGRAM_ADDRESS,
} from "@solana-program/memo";
import {
  findAssociatedTokenPda,
  getTokenDecoder,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devchain, SOLANA_FUNDS_PER_ACCOUNT, startDevchain } from "../src/index.ts";

// The devchain's Solana JSON-RPC as wallets, scripts and @solana/kit meet it: the balance calls in a
// validator's shapes, preflight on sendTransaction, and the Memo programs a client library may pick.

let devchain: Devchain;
let rpc: ReturnType<typeof createSolanaRpc>;
beforeAll(async () => {
  devchain = await startDevchain();
  rpc = createSolanaRpc(devnet(devchain.solana.rpcUrl));
});
afterAll(async () => {
  await devchain?.close();
});

const keypair = (index: number) => devchain.solana.accounts[index] ?? expect.unreachable();
const usdc = () => devchain.solana.mint as Address;
const ata = async (owner: Address, mint: Address = usdc()) =>
  (await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS }))[0];

async function signed(payer: KeyPairSigner, instructions: Instruction[]) {
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  return signTransactionMessageWithSigners(
    pipe(
      createTransactionMessage({ version: 0 }),
      (message) => setTransactionMessageFeePayerSigner(payer, message),
      (message) => setTransactionMessageLifetimeUsingBlockhash(blockhash, message),
      (message) => appendTransactionMessageInstructions(instructions, message),
    ),
  );
}

async function transferChecked(from: KeyPairSigner, to: Address, amount: bigint) {
  return getTransferCheckedInstruction({
    source: await ata(from.address),
    mint: usdc(),
    destination: await ata(to),
    authority: from,
    amount,
    decimals: 6,
  });
}

/** What the chain holds for these keypairs: SOL, USDC and the slot. */
async function snapshot(...owners: Address[]) {
  const { runtime } = devchain.solana;
  return {
    slot: runtime.slot,
    balances: await Promise.all(
      owners.map(async (owner) => [runtime.svm.getBalance(owner), await runtime.balanceOf(owner)]),
    ),
  };
}

describe("the local Solana RPC answers the balance calls wallets and scripts make", () => {
  it("getBalance: a keypair's lamports in { context: { slot }, value }, and 0 for an address it never saw", async () => {
    const holder = keypair(3).address;
    const answer = await rpc.getBalance(holder).send();
    expect(answer.context.slot).toBe(devchain.solana.runtime.slot);
    expect(answer.value).toBe(100n * 1_000_000_000n);
    const stranger = await generateKeyPairSigner();
    expect((await rpc.getBalance(stranger.address).send()).value).toBe(0n);
  });

  it("getTokenAccountBalance: amount, decimals, uiAmount and uiAmountString; a wallet address is not a token account", async () => {
    const answer = await rpc.getTokenAccountBalance(await ata(keypair(3).address)).send();
    expect(answer.context.slot).toBe(devchain.solana.runtime.slot);
    expect(answer.value).toEqual({
      amount: SOLANA_FUNDS_PER_ACCOUNT.toString(),
      decimals: 6,
      uiAmount: 10_000,
      uiAmountString: "10000",
    });

    const fresh = (await generateKeyPairSigner()).address;
    await devchain.solana.runtime.fund(fresh, 1_234_500n);
    expect((await rpc.getTokenAccountBalance(await ata(fresh)).send()).value).toEqual({
      amount: "1234500",
      decimals: 6,
      uiAmount: 1.2345,
      uiAmountString: "1.2345",
    });

    const refused = await rpc
      .getTokenAccountBalance(keypair(3).address)
      .send()
      .catch((error: SolanaError) => error);
    expect(isSolanaError(refused, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS)).toBe(true);
    expect((refused as SolanaError).context).toMatchObject({
      __serverMessage: "Invalid param: not a Token account",
    });
  });

  it("getTokenAccountsByOwner: by mint or by token program, jsonParsed or base64", async () => {
    const owner = keypair(3).address;
    const other = await devchain.solana.runtime.createMint("rpc test mint");

    const byMint = await rpc
      .getTokenAccountsByOwner(owner, { mint: usdc() }, { encoding: "jsonParsed" })
      .send();
    expect(byMint.value).toHaveLength(1);
    const [only] = byMint.value;
    expect(only?.pubkey).toBe(await ata(owner));
    expect(only?.account).toMatchObject({ owner: TOKEN_PROGRAM_ADDRESS, executable: false, space: 165n });
    expect(only?.account.data).toEqual({
      program: "spl-token",
      parsed: {
        type: "account",
        info: {
          isNative: false,
          mint: usdc(),
          owner,
          state: "initialized",
          tokenAmount: {
            amount: SOLANA_FUNDS_PER_ACCOUNT.toString(),
            decimals: 6,
            uiAmount: 10_000,
            uiAmountString: "10000",
          },
        },
      },
      space: 165n,
    });

    const byProgram = await rpc
      .getTokenAccountsByOwner(owner, { programId: TOKEN_PROGRAM_ADDRESS }, { encoding: "base64" })
      .send();
    const decoded = byProgram.value.map(({ pubkey, account }) => ({
      pubkey,
      ...getTokenDecoder().decode(Buffer.from(account.data[0], "base64")),
    }));
    expect(decoded.map((token) => token.mint).sort()).toEqual([usdc(), other].sort());
    expect(decoded.every((token) => token.owner === owner && token.amount === SOLANA_FUNDS_PER_ACCOUNT)).toBe(
      true,
    );
    expect(byProgram.value.map((entry) => entry.account.data[1])).toEqual(["base64", "base64"]);

    const stranger = (await generateKeyPairSigner()).address;
    const none = await rpc.getTokenAccountsByOwner(stranger, { mint: usdc() }, { encoding: "base64" }).send();
    expect(none.value).toEqual([]);
  });

  it("getAccountInfo in jsonParsed spells out a mint, as @x402/svm's RPC helpers ask for it", async () => {
    const { value } = await rpc.getAccountInfo(usdc(), { encoding: "jsonParsed" }).send();
    expect(value?.data).toMatchObject({
      program: "spl-token",
      parsed: { type: "mint", info: { decimals: 6, isInitialized: true, mintAuthority: keypair(0).address } },
    });
  });
});

describe("sendTransaction runs preflight as a validator's RPC does", () => {
  it("refuses a transfer of more tokens than the payer holds at send time, with the logs; nothing lands", async () => {
    const payer = keypair(4);
    const payee = keypair(5).address;
    const held = await devchain.solana.runtime.balanceOf(payer.address);
    const transaction = await signed(payer.signer, [await transferChecked(payer.signer, payee, held + 1n)]);
    const wire = getBase64EncodedWireTransaction(transaction);
    const before = await snapshot(payer.address, payee);

    const refused = await rpc
      .sendTransaction(wire, { encoding: "base64" })
      .send()
      .catch((error: unknown) => error);
    expect(
      isSolanaError(refused, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE),
    ).toBe(true);
    const error = refused as SolanaError<
      typeof SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE
    >;
    expect(error.context.logs).toContain("Program log: Error: insufficient funds");
    // Kit reads the transaction error: the token program's custom error 1 (insufficient funds) in instruction 0.
    expect(isSolanaError(error.cause, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)).toBe(true);
    expect((error.cause as SolanaError).context).toMatchObject({ code: 1, index: 0 });

    // On the wire, the validator's answer.
    const raw = await fetch(devchain.solana.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "sendTransaction",
        params: [wire, { encoding: "base64" }],
      }),
    }).then((response) => response.json());
    expect(raw.error).toMatchObject({
      code: -32002,
      message: "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1",
      data: { err: { InstructionError: [0, { Custom: 1 }] }, accounts: null },
    });
    expect(raw.error.data.logs).toContain("Program log: Error: insufficient funds");

    // Not landed, not charged: no status, the same balances (SOL too: no fee) and the same slot.
    const signature = getSignatureFromTransaction(transaction);
    expect((await rpc.getSignatureStatuses([signature]).send()).value).toEqual([null]);
    expect(await snapshot(payer.address, payee)).toEqual(before);
  });

  it("with skipPreflight the same transfer lands as failed, its error in the RPC's shape", async () => {
    const payer = keypair(4);
    const held = await devchain.solana.runtime.balanceOf(payer.address);
    const transaction = await signed(payer.signer, [
      await transferChecked(payer.signer, keypair(5).address, held + 2n),
    ]);
    const signature = await rpc
      .sendTransaction(getBase64EncodedWireTransaction(transaction), {
        encoding: "base64",
        skipPreflight: true,
      })
      .send();
    const [status] = (await rpc.getSignatureStatuses([signature]).send()).value;
    expect(status?.err).toEqual({ InstructionError: [0n, { Custom: 1n }] });
    expect(await devchain.solana.runtime.balanceOf(payer.address)).toBe(held);
  });

  it("refuses a transaction without its signature as a validator does (-32003)", async () => {
    const payer = keypair(4);
    const { value: blockhash } = await rpc.getLatestBlockhash().send();
    const unsigned = compileTransaction(
      pipe(
        createTransactionMessage({ version: 0 }),
        (message) => setTransactionMessageFeePayerSigner(payer.signer, message),
        (message) => setTransactionMessageLifetimeUsingBlockhash(blockhash, message),
        (message) =>
          appendTransactionMessageInstructions([getAddMemoInstruction({ memo: "unsigned" })], message),
      ),
    );
    const refused = await rpc
      .sendTransaction(getBase64EncodedWireTransaction(unsigned), { encoding: "base64" })
      .send()
      .catch((error: unknown) => error);
    expect(
      isSolanaError(refused, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE),
    ).toBe(true);
  });
});

describe("the Memo programs a client library may pick", () => {
  const PRICE = 50_000n;

  /** A TransferChecked with a memo, sent through the RPC (with preflight) as a wallet sends it. */
  async function payWithMemo(memo: Instruction) {
    const payer = keypair(6);
    const transaction = await signed(payer.signer, [
      await transferChecked(payer.signer, keypair(7).address, PRICE),
      memo,
    ]);
    return rpc.sendTransaction(getBase64EncodedWireTransaction(transaction), { encoding: "base64" }).send();
  }

  /**
   * The memos of a landed transaction, read as the plan flow's verifier reads them
   * (apps/server/src/payments/families/svm/transfer.ts): getTransaction in base64 at `confirmed`, the message's
   * top-level instructions, those whose program is one of the Memo programs it knows, their data as UTF-8.
   */
  async function memosOf(signature: Signature) {
    const found = await rpc
      .getTransaction(signature, {
        encoding: "base64",
        commitment: "confirmed",
        maxSupportedTransactionVersion: 0,
      })
      .send();
    expect(found?.meta?.err).toBeNull();
    const transaction = getTransactionDecoder().decode(
      getBase64Encoder().encode(found?.transaction[0] ?? ""),
    );
    const message = getCompiledTransactionMessageDecoder().decode(transaction.messageBytes);
    const instructions = "instructions" in message ? message.instructions : [];
    return instructions
      .map((instruction) => ({
        program: message.staticAccounts[instruction.programAddressIndex] ?? "",
        memo: new TextDecoder().decode(instruction.data),
      }))
      .filter(({ program }) => SERVER_MEMO_PROGRAMS.includes(program));
  }
  // The Memo programs the verifier accepts (its MEMO_PROGRAMS): v3, v1 and v4.
  const SERVER_MEMO_PROGRAMS: string[] = [
    LEGACY_MEMO_PROGRAM_ADDRESS_V3,
    LEGACY_MEMO_PROGRAM_ADDRESS_V1,
    MEMO_PROGRAM_ADDRESS,
  ];

  it("a memo built by @solana-program/memo's defaults (Memo v4, Memo4c2p…) lands, and reads as the verifier reads it", async () => {
    const instruction = getAddMemoInstruction({ memo: "session 4c2p" });
    expect(instruction.programAddress).toBe(MEMO_PROGRAM_ADDRESS);
    const signature = await payWithMemo(instruction);
    expect(await memosOf(signature)).toEqual([{ program: MEMO_PROGRAM_ADDRESS, memo: "session 4c2p" }]);
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    expect(value[0]).toMatchObject({ err: null, confirmationStatus: "finalized" });
  });

  it.each([
    ["v3 (MemoSq4g…, the one @x402/svm uses)", LEGACY_MEMO_PROGRAM_ADDRESS_V3],
    ["v1 (Memo1Uhk…)", LEGACY_MEMO_PROGRAM_ADDRESS_V1],
  ])("a memo for Memo %s lands and reads as the verifier reads it", async (_, programAddress) => {
    const memo = `session ${programAddress.slice(0, 8)}`;
    const signature = await payWithMemo(getAddMemoInstruction({ memo }, { programAddress }));
    expect(await memosOf(signature)).toEqual([{ program: programAddress, memo }]);
  });

  it("Memo v4 here checks its signers as v3 does: a memo naming an account that did not sign is refused at send time", async () => {
    const payer = keypair(6);
    const bystander = (await generateKeyPairSigner()).address;
    // The bystander is listed as a plain (non-signing) account: the program must refuse it. (v1 predates
    // signer checks and takes it, as on a cluster.)
    for (const programAddress of [MEMO_PROGRAM_ADDRESS, LEGACY_MEMO_PROGRAM_ADDRESS_V3]) {
      const memo = getAddMemoInstruction(
        { memo: "not signed" },
        { programAddress: programAddress as Address },
      );
      const unsignedSigner = { ...memo, accounts: [{ address: bystander, role: AccountRole.READONLY }] };
      const transaction = await signed(payer.signer, [unsignedSigner]);
      const refused = await rpc
        .sendTransaction(getBase64EncodedWireTransaction(transaction), { encoding: "base64" })
        .send()
        .catch((error: unknown) => error);
      expect(
        isSolanaError(refused, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE),
      ).toBe(true);
      expect(
        isSolanaError(
          (refused as SolanaError).cause,
          SOLANA_ERROR__INSTRUCTION_ERROR__MISSING_REQUIRED_SIGNATURE,
        ),
      ).toBe(true);
    }
  });
});
