import {
  createPublicClient,
  erc20Abi,
  formatUnits,
  type Hash,
  http,
  parseEventLogs,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
} from "viem";
import type { TransferCheck, TransferClaim, TransferVerifier } from "./types.ts";

export interface EvmVerifierOptions {
  rpcUrl: string;
  /** Blocks that must hold the transaction, its own included: 1 accepts it as soon as it is mined. */
  confirmations: number;
}

// Every asset the platform prices in is USDC, so amounts in refusals are shown with its 6 decimals.
const DECIMALS = 6;
// Block timestamps come from the block producer's clock, which may run behind ours.
const CLOCK_SKEW_MS = 60_000;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const units = (amount: bigint) => formatUnits(amount, DECIMALS);

/**
 * Checks an ERC-20 payment by its receipt: the `Transfer` events the asset contract emitted to the
 * recipient, summed per sender. Reading events rather than the transaction's calldata accepts every way
 * of moving the token (transfer, transferFrom, EIP-3009 relayed by someone else, a contract paying),
 * and the payer is whoever the tokens left, not whoever sent the transaction. Failures to reach the
 * node are viem's errors, thrown: they say nothing about the payment.
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

      // A payment comes from one account: each sender's transfers are summed and judged on their own.
      const bySender = new Map<string, bigint>();
      for (const log of paying) {
        const sender = log.args.from.toLowerCase();
        bySender.set(sender, (bySender.get(sender) ?? 0n) + log.args.value);
      }
      let payer: string;
      if (claim.payer) {
        payer = claim.payer.toLowerCase();
        if (!bySender.has(payer)) {
          return {
            ok: false,
            code: "wrong_payer",
            reason: `Transaction ${hash} pays from ${[...bySender.keys()].join(", ")}, not from your linked wallet ${claim.payer}.`,
          };
        }
      } else {
        [payer] = [...bySender].reduce((best, entry) => (entry[1] > best[1] ? entry : best));
      }
      const amount = bySender.get(payer) ?? 0n;
      if (amount < claim.minAmount) {
        return {
          ok: false,
          code: "amount_too_low",
          reason: `Transaction ${hash} pays ${units(amount)} to ${claim.recipient}, but ${units(claim.minAmount)} is due.`,
        };
      }

      const block = await client.getBlock({ blockNumber: receipt.blockNumber });
      const minedAt = new Date(Number(block.timestamp) * 1000);
      if (minedAt.getTime() < claim.notBefore.getTime() - CLOCK_SKEW_MS) {
        return {
          ok: false,
          code: "too_old",
          reason: `Transaction ${hash} was mined at ${minedAt.toISOString()}, before this payment session began (${claim.notBefore.toISOString()}); it cannot pay for it.`,
        };
      }

      // Checked last, so a transfer that can never pay is refused at once instead of after a wait.
      const confirmations = (await client.getBlockNumber({ cacheTime: 0 })) - receipt.blockNumber + 1n;
      if (confirmations < BigInt(options.confirmations)) {
        return {
          ok: false,
          code: "unconfirmed",
          reason: `Transaction ${hash} has ${confirmations} of ${options.confirmations} confirmations; retry in a few blocks.`,
        };
      }
      return { ok: true, payer, amount, blockNumber: receipt.blockNumber, txHash: hash };
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
