import {
  type Address,
  createSolanaRpc,
  getAddressEncoder,
  getBase58Encoder,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getProgramDerivedAddress,
  getTransactionDecoder,
  isAddress,
  type Signature,
} from "@solana/kit";
import { ASSOCIATED_TOKEN_PROGRAM_ADDRESS, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { formatUnits } from "viem";
import type { TransferCheck, TransferClaim, TransferVerifier } from "../transfer.ts";

export interface SolanaVerifierOptions {
  rpcUrl: string;
  /** How settled the transfer must be: `confirmed` (a supermajority voted on it) or `finalized`. */
  commitment: "confirmed" | "finalized";
}

const TOKEN_2022_PROGRAM_ADDRESS = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
const TOKEN_PROGRAMS = new Set<string>([TOKEN_PROGRAM_ADDRESS, TOKEN_2022_PROGRAM_ADDRESS]);
// The Memo program, v2 and v1, and the one @solana-program/memo now targets by default: wallets use any.
const MEMO_PROGRAMS = new Set([
  "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
  "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo",
  "Memo4c2pN8afCj432Lb7RMVKi9PbQnnW7ewFFaV3oAH",
]);
const TRANSFER_CHECKED = 12;
const RANK = { processed: 0, confirmed: 1, finalized: 2 } as const;
// Every asset the platform prices in is USDC (6 decimals on Solana too).
const DECIMALS = 6;
// Block times come from validators' clocks, which may run behind ours.
const CLOCK_SKEW_MS = 60_000;

interface Transfer {
  program: string;
  mint: string;
  destination: string;
  authority: string;
  amount: bigint;
}

const units = (amount: bigint) => formatUnits(amount, DECIMALS);

/**
 * Checks the plan's Solana payment: a confirmed transaction holding a `TransferChecked` of the session's
 * mint into the recipient's associated token account, for at least the amount, beside a memo equal to the
 * session id. Only top-level instructions count (a transfer made inside another program is not read).
 * Failures to reach the RPC are thrown: they say nothing about the payment.
 */
export function solanaTransferVerifier(options: SolanaVerifierOptions): TransferVerifier {
  const rpc = createSolanaRpc(options.rpcUrl);

  return {
    canonical: (txHash) => txHash,
    async verify(claim: TransferClaim): Promise<TransferCheck> {
      const signature = claim.txHash;
      if (!isSignature(signature)) {
        return {
          ok: false,
          code: "malformed",
          reason: `"${signature}" is not a Solana transaction signature: expected 64 bytes in base58.`,
        };
      }
      const { value } = await rpc
        .getSignatureStatuses([signature as Signature], { searchTransactionHistory: true })
        .send();
      const status = value[0];
      if (!status) {
        return {
          ok: false,
          code: "not_found",
          reason: `Transaction ${signature} is not on this cluster; check the signature and that you paid on the right network, or retry in a moment if you just sent it.`,
        };
      }
      if (status.err) {
        return {
          ok: false,
          code: "reverted",
          reason: `Transaction ${signature} failed on chain and moved no tokens; send a new transfer.`,
        };
      }
      const reached = status.confirmationStatus ?? "processed";
      if (RANK[reached] < RANK[options.commitment]) return unconfirmed(signature, reached);

      const found = await rpc
        .getTransaction(signature as Signature, {
          encoding: "base64",
          commitment: options.commitment,
          maxSupportedTransactionVersion: 0,
        })
        .send();
      if (!found) return unconfirmed(signature, reached);
      const { transfers, memos } = instructionsOf(found.transaction[0], found.meta?.loadedAddresses);

      const ofMint = transfers.filter((transfer) => transfer.mint === claim.asset);
      if (ofMint.length === 0) {
        const other = transfers[0];
        return {
          ok: false,
          code: "wrong_mint",
          reason: other
            ? `Transaction ${signature} transfers mint ${other.mint}, not ${claim.asset}; pay in ${claim.asset}.`
            : `Transaction ${signature} holds no TransferChecked of ${claim.asset}; pay with an SPL transfer of ${claim.asset} to ${claim.recipient}.`,
        };
      }
      const destinations = new Set(
        await Promise.all(
          ofMint.map((transfer) => associatedTokenAccount(claim.recipient, claim.asset, transfer.program)),
        ),
      );
      const paying = ofMint.filter((transfer) => destinations.has(transfer.destination));
      if (paying.length === 0) {
        const elsewhere = [...new Set(ofMint.map((transfer) => transfer.destination))].join(", ");
        return {
          ok: false,
          code: "wrong_recipient",
          reason: `Transaction ${signature} sends ${claim.asset} to token account ${elsewhere}, not to ${claim.recipient}'s associated token account.`,
        };
      }

      // A payment comes from one wallet: each authority's transfers are summed and judged on their own.
      const byPayer = new Map<string, bigint>();
      for (const transfer of paying)
        byPayer.set(transfer.authority, (byPayer.get(transfer.authority) ?? 0n) + transfer.amount);
      // The memo binds the transfer to its session, so whoever signed it is the payer; a linked wallet (never a
      // Solana one today: SIWE links EVM wallets) narrows it further.
      const largest = [...byPayer].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
      if (claim.linkedWallet && isAddress(claim.linkedWallet) && !byPayer.has(claim.linkedWallet)) {
        return {
          ok: false,
          code: "wrong_payer",
          reason: `Transaction ${signature} pays from ${[...byPayer.keys()].join(", ")}, not from your linked wallet ${claim.linkedWallet}.`,
          received: { sender: largest, amount: byPayer.get(largest) ?? 0n, txHash: signature },
        };
      }
      const payer = claim.linkedWallet && isAddress(claim.linkedWallet) ? claim.linkedWallet : largest;
      const amount = byPayer.get(payer) ?? 0n;
      // The transaction reached `commitment` before it was read: what it sent is final enough to record.
      const received = { sender: payer, amount, txHash: signature };
      if (amount < claim.minAmount) {
        return {
          ok: false,
          code: "amount_too_low",
          reason: `Transaction ${signature} pays ${units(amount)} to ${claim.recipient}, but ${units(claim.minAmount)} is due.`,
          received,
        };
      }
      if (!memos.includes(claim.sessionId)) {
        return {
          ok: false,
          code: "wrong_memo",
          reason: memos.length
            ? `Transaction ${signature} carries the memo "${memos.join('", "')}", not this session's id ${claim.sessionId}; a transfer pays for the session its memo names.`
            : `Transaction ${signature} carries no memo; the transfer must carry a memo instruction with the session id ${claim.sessionId}.`,
          received,
        };
      }
      if (found.blockTime !== null) {
        const at = new Date(Number(found.blockTime) * 1000);
        if (at.getTime() < claim.notBefore.getTime() - CLOCK_SKEW_MS) {
          return {
            ok: false,
            code: "too_old",
            reason: `Transaction ${signature} landed at ${at.toISOString()}, before this payment session began (${claim.notBefore.toISOString()}); it cannot pay for it.`,
            received,
          };
        }
      }
      return { ok: true, payer, amount, blockNumber: BigInt(found.slot), txHash: signature, proof: "memo" };
    },
  };

  function unconfirmed(signature: string, reached: string): TransferCheck {
    return {
      ok: false,
      code: "unconfirmed",
      reason: `Transaction ${signature} is ${reached}, not yet ${options.commitment}; retry in a few seconds.`,
    };
  }
}

function isSignature(value: string): boolean {
  try {
    return getBase58Encoder().encode(value).length === 64;
  } catch {
    return false;
  }
}

/** The top-level TransferChecked instructions and memos of a base64 wire transaction. */
function instructionsOf(
  base64: string,
  loaded: { writable: readonly string[]; readonly: readonly string[] } | undefined,
): { transfers: Transfer[]; memos: string[] } {
  const transaction = getTransactionDecoder().decode(getBase64Encoder().encode(base64));
  const message = getCompiledTransactionMessageDecoder().decode(transaction.messageBytes);
  // v0 transactions index static keys, then the lookup tables' writable and read-only addresses.
  const keys: string[] = [
    ...message.staticAccounts,
    ...(loaded?.writable ?? []),
    ...(loaded?.readonly ?? []),
  ];
  const transfers: Transfer[] = [];
  const memos: string[] = [];
  // Legacy and v0 messages list their instructions; a later message version is not read (it pays nothing here).
  const instructions = "instructions" in message ? message.instructions : [];
  for (const instruction of instructions) {
    const program = keys[instruction.programAddressIndex] ?? "";
    const data = instruction.data ?? new Uint8Array();
    const accounts = (instruction.accountIndices ?? []).map((index) => keys[index] ?? "");
    if (
      TOKEN_PROGRAMS.has(program) &&
      data[0] === TRANSFER_CHECKED &&
      data.length >= 10 &&
      accounts.length >= 4
    ) {
      const [, mint = "", destination = "", authority = ""] = accounts;
      const amount = Buffer.from(data.slice(1, 9)).readBigUInt64LE(0);
      transfers.push({ program, mint, destination, authority, amount });
    } else if (MEMO_PROGRAMS.has(program)) {
      memos.push(new TextDecoder().decode(data));
    }
  }
  return { transfers, memos };
}

async function associatedTokenAccount(owner: string, mint: string, tokenProgram: string): Promise<string> {
  if (!isAddress(owner) || !isAddress(mint)) return "";
  const encoder = getAddressEncoder();
  const [address] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    seeds: [encoder.encode(owner), encoder.encode(tokenProgram as Address), encoder.encode(mint)],
  });
  return address;
}
