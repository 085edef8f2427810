import { createHash } from "node:crypto";
import { PAYMENT_NETWORKS } from "@robo402/protocol";
import {
  type Address,
  createKeyPairSignerFromPrivateKeyBytes,
  getAddressEncoder,
  getBase58Decoder,
  getTransactionDecoder,
  type KeyPairSigner,
  lamports,
  none,
  some,
  type Transaction,
} from "@solana/kit";
import {
  LEGACY_MEMO_PROGRAM_ADDRESS_V1,
  LEGACY_MEMO_PROGRAM_ADDRESS_V3,
  MEMO_PROGRAM_ADDRESS,
} from "@solana-program/memo";
import {
  AccountState,
  findAssociatedTokenPda,
  getMintEncoder,
  getTokenEncoder,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import { FailedTransactionMetadata, LiteSVM } from "litesvm";
import { type TransactionError, transactionError } from "./solana-errors.ts";

/** x402 knows only Solana's public clusters, so the local runtime presents itself as devnet (with its own RPC URL). */
export const SOLANA_DEVNET = PAYMENT_NETWORKS["solana-local"].id;
export const SOLANA_USDC_DECIMALS = 6;
export const SOLANA_FUNDS_PER_ACCOUNT = 10_000n * 10n ** BigInt(SOLANA_USDC_DECIMALS);
const SOL_PER_ACCOUNT = 100n * 1_000_000_000n;
const MINT_SIZE = 82;
const TOKEN_ACCOUNT_SIZE = 165;

export interface SolanaDevAccount {
  address: Address;
  /** The 64-byte keypair (seed then public key) in base58, as Solana wallets export it. */
  secretKey: string;
  signer: KeyPairSigner;
}

/** Where a transaction stands: `processed` while confirmations are held back (tests), else final at once. */
export type Commitment = "processed" | "confirmed" | "finalized";

export interface LandedTransaction {
  slot: bigint;
  /** Unix seconds, as a block's time. */
  blockTime: number;
  wire: Uint8Array;
  /** As the RPC writes it, e.g. `{"InstructionError":[0,{"Custom":1}]}`; null when it succeeded. */
  err: TransactionError | null;
  logs: string[];
  fee: bigint;
  status: Commitment;
}

/**
 * A Solana runtime in-process: litesvm (the real SVM, with the SPL Token, Associated Token and Memo
 * programs: Memo v1 and v3 as litesvm loads them, and v4 at its own address, see `#loadMemoV4`) holding a 6-decimal test USDC mint and ten funded keypairs, each with SOL and a USDC
 * associated token account. It keeps what a validator's RPC answers from: every transaction's wire
 * bytes, its slot and its status. One slot per transaction; no forks, so a confirmed transaction is final.
 */
export class LocalSolana {
  readonly svm = new LiteSVM();
  readonly #landed = new Map<string, LandedTransaction>();
  #slot = 1n;
  #confirming = true;

  private constructor(
    readonly mint: Address,
    readonly accounts: SolanaDevAccount[],
  ) {}

  static async start(): Promise<LocalSolana> {
    const accounts = await Promise.all(
      Array.from({ length: 10 }, (_, index) => devKeypair(`account ${index}`)),
    );
    const mint = (await devKeypair("usdc mint")).address;
    const runtime = new LocalSolana(mint, accounts);
    runtime.#loadMemoV4();
    await runtime.#createMint(mint);
    for (const account of accounts) runtime.svm.airdrop(account.address, lamports(SOL_PER_ACCOUNT));
    return runtime;
  }

  get slot(): bigint {
    return this.#slot;
  }

  /** Another 6-decimal mint, funded like the first: a second token for tests. */
  async createMint(label = "other mint"): Promise<Address> {
    const mint = (await devKeypair(label)).address;
    await this.#createMint(mint);
    return mint;
  }

  /** The associated token account of `owner` for `mint` (the SPL Token program's). */
  async tokenAccount(owner: Address, mint: Address = this.mint): Promise<Address> {
    const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
    return ata;
  }

  /** `owner`'s balance of `mint` in base units (0 without a token account). */
  async balanceOf(owner: Address, mint: Address = this.mint): Promise<bigint> {
    const account = this.svm.getAccount(await this.tokenAccount(owner, mint));
    if (!account.exists) return 0n;
    // SPL token account layout: mint (32), owner (32), amount (u64 little-endian).
    return Buffer.from(account.data).readBigUInt64LE(64);
  }

  /** Gives `owner` a token account for `mint` holding `amount` (a fresh payee for tests). */
  async fund(owner: Address, amount: bigint, mint: Address = this.mint): Promise<void> {
    const data = getTokenEncoder().encode({
      mint,
      owner,
      amount,
      delegate: none(),
      state: AccountState.Initialized,
      isNative: none(),
      delegatedAmount: 0n,
      closeAuthority: none(),
    });
    this.#put(await this.tokenAccount(owner, mint), new Uint8Array(data), TOKEN_PROGRAM_ADDRESS);
  }

  /**
   * Tests: while false, new transactions execute but stay `processed` (a validator's RPC before the
   * cluster has voted on them); setting it back to true confirms them.
   */
  setConfirming(confirming: boolean): void {
    this.#confirming = confirming;
    if (confirming) for (const landed of this.#landed.values()) landed.status = "finalized";
  }

  /** Executes a wire transaction (signatures checked); failures land on chain with their error, as on a cluster. */
  send(wire: Uint8Array): string {
    const transaction = getTransactionDecoder().decode(wire);
    const signature = signatureOf(transaction);
    if (this.#landed.has(signature)) return signature;
    const result = this.svm.sendTransaction(transaction);
    this.#slot += 1n;
    const failed = result instanceof FailedTransactionMetadata;
    const meta = failed ? result.meta() : result;
    this.#landed.set(signature, {
      slot: this.#slot,
      blockTime: Math.floor(Date.now() / 1000),
      wire,
      err: failed ? transactionError(result) : null,
      logs: meta.logs(),
      fee: 5000n * BigInt(Object.keys(transaction.signatures).length),
      status: this.#confirming ? "finalized" : "processed",
    });
    return signature;
  }

  /** Runs a transaction without keeping its effects; `sigVerify` as the RPC's flag (the fee payer may not have signed yet). */
  simulate(
    wire: Uint8Array,
    sigVerify: boolean,
  ): { err: TransactionError | null; logs: string[]; unitsConsumed: bigint } {
    const transaction = getTransactionDecoder().decode(wire);
    this.svm.withSigverify(sigVerify);
    try {
      const result = this.svm.simulateTransaction(transaction);
      if (result instanceof FailedTransactionMetadata) {
        const meta = result.meta();
        return {
          err: transactionError(result),
          logs: meta.logs(),
          unitsConsumed: meta.computeUnitsConsumed(),
        };
      }
      const meta = result.meta();
      return { err: null, logs: meta.logs(), unitsConsumed: meta.computeUnitsConsumed() };
    } finally {
      this.svm.withSigverify(true);
    }
  }

  landed(signature: string): LandedTransaction | undefined {
    return this.#landed.get(signature);
  }

  /**
   * `@solana-program/memo` builds memos for Memo v4 (Memo4c2p…) by default; litesvm loads only v1 and
   * v3 (MemoSq4g…), and no package ships v4's build. v4 (p-memo) reimplements the same program (the
   * memo is the instruction's UTF-8 data, every account passed must sign), so the local chain runs litesvm's v3
   * build at v4's address: a memo made with the library's defaults lands here as it does on a cluster.
   */
  #loadMemoV4() {
    const v3 = this.svm.getAccount(LEGACY_MEMO_PROGRAM_ADDRESS_V3);
    if (!v3.exists || !this.svm.getAccount(LEGACY_MEMO_PROGRAM_ADDRESS_V1).exists)
      throw new Error("litesvm no longer loads the Memo programs v1 and v3");
    this.svm.addProgram(MEMO_PROGRAM_ADDRESS, new Uint8Array(v3.data));
  }

  async #createMint(mint: Address): Promise<void> {
    const authority = this.accounts[0]?.address;
    if (!authority) throw new Error("no mint authority");
    const data = getMintEncoder().encode({
      mintAuthority: some(authority),
      supply: SOLANA_FUNDS_PER_ACCOUNT * BigInt(this.accounts.length),
      decimals: SOLANA_USDC_DECIMALS,
      isInitialized: true,
      freezeAuthority: none(),
    });
    if (data.length !== MINT_SIZE) throw new Error("unexpected mint layout");
    this.#put(mint, new Uint8Array(data), TOKEN_PROGRAM_ADDRESS);
    for (const account of this.accounts) await this.fund(account.address, SOLANA_FUNDS_PER_ACCOUNT, mint);
  }

  #put(address: Address, data: Uint8Array, owner: Address) {
    if (owner === TOKEN_PROGRAM_ADDRESS && data.length !== MINT_SIZE && data.length !== TOKEN_ACCOUNT_SIZE)
      throw new Error("unexpected token account layout");
    this.svm.setAccount({
      address,
      data,
      executable: false,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: owner,
      space: BigInt(data.length),
    });
  }
}

/** A transaction's id: its first signature (the fee payer's), in base58. */
export function signatureOf(transaction: Transaction): string {
  const [first] = Object.values(transaction.signatures);
  if (!first) throw new Error("transaction has no signatures");
  return getBase58Decoder().decode(first);
}

/** The same keypair on every start, so printed keys stay valid from one run to the next. */
async function devKeypair(label: string): Promise<SolanaDevAccount> {
  const seed = createHash("sha256").update(`robo402 solana devchain: ${label}`).digest();
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed, true);
  const secret = new Uint8Array(64);
  secret.set(seed, 0);
  secret.set(getAddressEncoder().encode(signer.address), 32);
  return { address: signer.address, secretKey: getBase58Decoder().decode(secret), signer };
}
