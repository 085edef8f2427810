import { sessionSuffix } from "@robo402/protocol";
import {
  type Address,
  createPublicClient,
  decodeFunctionData,
  erc20Abi,
  formatUnits,
  type Hash,
  type Hex,
  http,
  parseEventLogs,
  size,
  slice,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
} from "viem";
import type { TransferCheck, TransferClaim, TransferVerifier } from "../transfer.ts";

export interface EvmVerifierOptions {
  rpcUrl: string;
  /** Blocks that must hold the transaction, its own included: 1 accepts it as soon as it is mined. */
  confirmations: number;
}

// Every asset the platform prices in is USDC, so amounts in refusals are shown with its 6 decimals.
const DECIMALS = 6;
/**
 * How far before the session's creation a transfer proven by the linked wallet may be mined. A block's
 * timestamp is not the moment its transactions were sent: on Ethereum it is the start of the slot
 * (12 s), and a transaction sent a few seconds into a slot can still land in that slot's block; Base
 * and other rollups stamp 2 s blocks; anvil stamps whole seconds; and our own clock may drift from the
 * chain's by a second or so. 15 s covers all of that and nothing more: a transfer from the account's own
 * wallet cannot pay someone else's session anyway, so the margin only decides whether the account's own
 * slightly earlier transfer counts. A suffixed transfer is not timed at all: it carries the session's
 * random id, which did not exist before the session opened.
 */
export const BLOCK_CLOCK_SKEW_MS = 15_000;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
// ERC-20 `transfer(address,uint256)` calldata: a 4-byte selector and two 32-byte words; the session's id
// (16 bytes) follows right after. Anything a wallet appends after that (ERC-8021 attribution…) is ignored.
const TRANSFER_CALL_BYTES = 4 + 32 + 32;
const SUFFIX_BYTES = 16;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const units = (amount: bigint) => formatUnits(amount, DECIMALS);

/**
 * Checks an ERC-20 payment by its receipt: the `Transfer` events the asset contract emitted to the
 * recipient, summed per sender, and whose they are. A transfer shows which session it pays in one of two
 * ways: the transaction is a `transfer` call to the asset whose calldata carries the session's id after
 * its arguments (then the payer is the transaction's sender, and the tokens must leave that sender), or
 * the tokens left the wallet linked to the session's account (however they were moved: a relayed
 * EIP-3009 transfer, a contract paying). A transfer that shows neither pays nothing: anyone can watch a
 * robot's wallet and name somebody else's transfer. Failures to reach the node are viem's errors,
 * thrown: they say nothing about the payment.
 */
export function evmTransferVerifier(options: EvmVerifierOptions): TransferVerifier {
  const client = createPublicClient({ transport: http(options.rpcUrl) });

  return {
    canonical: (txHash) => txHash.toLowerCase(),
    async verify(claim: TransferClaim): Promise<TransferCheck> {
      if (!TX_HASH.test(claim.txHash)) {
        return {
          ok: false,
          code: "malformed",
          reason: `"${claim.txHash}" is not an EVM transaction hash: expected 0x followed by 64 hex digits.`,
        };
      }
      const hash = claim.txHash.toLowerCase() as Hash;

      const receipt = await client.getTransactionReceipt({ hash }).catch((error: unknown) => {
        if (error instanceof TransactionReceiptNotFoundError) return undefined;
        throw error;
      });
      if (!receipt) return notMined(hash);
      if (receipt.status === "reverted") {
        return {
          ok: false,
          code: "reverted",
          reason: `Transaction ${hash} failed on chain (reverted) and moved no tokens; send a new transfer.`,
        };
      }

      const transfers = parseEventLogs({ abi: erc20Abi, eventName: "Transfer", logs: receipt.logs });
      const ofAsset = transfers.filter((log) => same(log.address, claim.asset));
      const paying = ofAsset.filter((log) => same(log.args.to, claim.recipient));
      if (paying.length === 0) {
        const otherToken = transfers.find((log) => same(log.args.to, claim.recipient));
        if (otherToken) {
          return {
            ok: false,
            code: "wrong_asset",
            reason: `Transaction ${hash} sends token ${otherToken.address} to ${claim.recipient}, not ${claim.asset}; pay in ${claim.asset}.`,
          };
        }
        if (ofAsset.length > 0) {
          const elsewhere = [...new Set(ofAsset.map((log) => log.args.to))].join(", ");
          return {
            ok: false,
            code: "wrong_recipient",
            reason: `Transaction ${hash} sends ${claim.asset} to ${elsewhere}, not to ${claim.recipient}.`,
          };
        }
        return {
          ok: false,
          code: "wrong_asset",
          reason: `Transaction ${hash} moves no ${claim.asset} tokens; pay with a transfer of ${claim.asset} to ${claim.recipient}.`,
        };
      }

      // Judged only once final enough: a refusal below names money that reached the recipient, and is
      // recorded for its owner to send back, which must not happen for a transfer a reorg can still drop.
      const confirmations = (await client.getBlockNumber({ cacheTime: 0 })) - receipt.blockNumber + 1n;
      if (confirmations < BigInt(options.confirmations)) {
        return {
          ok: false,
          code: "unconfirmed",
          reason: `Transaction ${hash} has ${confirmations} of ${options.confirmations} confirmations; retry in a few blocks.`,
        };
      }

      // A payment comes from one account: each sender's transfers are summed and judged on their own.
      const bySender = new Map<string, bigint>();
      for (const log of paying) {
        const sender = log.args.from.toLowerCase();
        bySender.set(sender, (bySender.get(sender) ?? 0n) + log.args.value);
      }
      const tx = await client.getTransaction({ hash });
      const from = tx.from.toLowerCase();
      const linked = claim.linkedWallet?.toLowerCase();

      let payer: string;
      let proof: "suffix" | "linked_wallet";
      if (bySender.has(from) && carriesSession(tx, claim)) {
        [payer, proof] = [from, "suffix"];
      } else if (linked && bySender.has(linked)) {
        [payer, proof] = [linked, "linked_wallet"];
      } else {
        // What reached the recipient, for the refund: the transaction's own sender's tokens if it sent
        // any, else the largest sender's.
        const sender = bySender.has(from)
          ? from
          : ([...bySender].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0] as string);
        return {
          ok: false,
          code: "unproven_payer",
          reason: unproven(hash, claim, linked),
          received: { sender, amount: bySender.get(sender) ?? 0n, txHash: hash },
        };
      }

      const amount = bySender.get(payer) ?? 0n;
      const received = { sender: payer, amount, txHash: hash };
      if (amount < claim.minAmount) {
        return {
          ok: false,
          code: "amount_too_low",
          reason: `Transaction ${hash} pays ${units(amount)} to ${claim.recipient}, but ${units(claim.minAmount)} is due.`,
          received,
        };
      }

      if (proof === "linked_wallet") {
        const block = await client.getBlock({ blockNumber: receipt.blockNumber });
        const minedAt = new Date(Number(block.timestamp) * 1000);
        if (minedAt.getTime() < claim.notBefore.getTime() - BLOCK_CLOCK_SKEW_MS) {
          return {
            ok: false,
            code: "too_old",
            reason: `Transaction ${hash} was mined at ${minedAt.toISOString()}, before this payment session began (${claim.notBefore.toISOString()}); it cannot pay for it.`,
            received,
          };
        }
      }
      return { ok: true, payer, amount, blockNumber: receipt.blockNumber, txHash: hash, proof };
    },
  };

  /** No receipt: either the transaction waits in the mempool or this node has never seen it. */
  async function notMined(hash: Hash): Promise<TransferCheck> {
    const pending = await client.getTransaction({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionNotFoundError) return undefined;
      throw error;
    });
    if (pending) {
      return {
        ok: false,
        code: "unconfirmed",
        reason: `Transaction ${hash} is not mined yet; retry when it is confirmed.`,
      };
    }
    return {
      ok: false,
      code: "not_found",
      reason: `Transaction ${hash} is not on this chain; check the hash and that you paid on the right network, or retry in a moment if you just sent it.`,
    };
  }
}

/**
 * Whether the transaction is the asset's `transfer(recipient, …)` with the session's id right after its
 * arguments. Read from the transaction's own input, so only a wallet that sends the transfer itself can
 * carry it (a smart-contract wallet or a relayer calls something else; they prove the payer by a linked
 * wallet instead).
 */
function carriesSession(tx: { to: Address | null; input: Hex }, claim: TransferClaim): boolean {
  if (!tx.to || !same(tx.to, claim.asset)) return false;
  if (size(tx.input) < TRANSFER_CALL_BYTES + SUFFIX_BYTES) return false;
  try {
    const call = decodeFunctionData({ abi: erc20Abi, data: slice(tx.input, 0, TRANSFER_CALL_BYTES) });
    if (call.functionName !== "transfer" || !same(call.args[0], claim.recipient)) return false;
  } catch {
    return false; // not an ERC-20 call
  }
  const suffix = slice(tx.input, TRANSFER_CALL_BYTES, TRANSFER_CALL_BYTES + SUFFIX_BYTES);
  return same(suffix, sessionSuffix(claim.sessionId));
}

function unproven(hash: string, claim: TransferClaim, linked: string | undefined): string {
  const wallet = linked
    ? `it does not come from ${linked}, the wallet linked to the session's account`
    : "the session's account has no linked wallet it could come from";
  return (
    `Transaction ${hash} does not show that it pays session ${claim.sessionId}: its transfer call does not carry the session id as a calldata suffix, and ${wallet}. ` +
    `Send the transfer with the session id's 16 bytes appended after transfer's arguments (calldata suffix ${sessionSuffix(claim.sessionId)}, e.g. viem's writeContract dataSuffix; the SDK's payTransfer does it), ` +
    "or link the paying wallet to your account (POST /api/auth/wallet) and verify again."
  );
}
