import { sessionSuffix } from "@robo402/protocol";
import {
  type Account,
  type Chain,
  concat,
  encodeFunctionData,
  erc20Abi,
  type Hash,
  type Hex,
  parseUnits,
  type Transport,
  type WalletClient,
} from "viem";

export { sessionSuffix };

/** What the plan's 402 body says about paying by transfer (the fields a transfer needs). */
export interface PlanPayment {
  readonly session_id: string;
  /** USDC, as the 402 states it (a number in the body, a decimal string in X-Payment-Amount). */
  readonly amount: number | string;
  readonly recipient: string;
  /** The token contract. */
  readonly asset: string;
}

export interface PayTransferOptions {
  /** The asset's decimals (USDC: 6). */
  readonly decimals?: number;
  /** The most this transfer may move, in base units (default 1_000_000: $1 of USDC): a server cannot make the client overspend. */
  readonly maxAmount?: bigint;
}

/** The 402's amount in the asset's base units. */
export function planAmount(payment: PlanPayment, decimals = 6): bigint {
  const amount =
    typeof payment.amount === "number" ? payment.amount.toFixed(decimals) : payment.amount.trim();
  return parseUnits(amount, decimals);
}

/**
 * The calldata of the plan flow's EVM payment: ERC-20 `transfer(recipient, amount)` followed by the
 * session id's 16 bytes, which is how the server knows which session the transfer pays (the memo's job
 * on Solana). For wallets that take raw calldata (`eth_sendTransaction` with `data`, to the asset).
 */
export function planTransferData(payment: PlanPayment, decimals = 6): Hex {
  const call = encodeFunctionData({
    abi: erc20Abi,
    functionName: "transfer",
    args: [payment.recipient as `0x${string}`, planAmount(payment, decimals)],
  });
  return concat([call, sessionSuffix(payment.session_id)]);
}

/**
 * Pays a plan-style 402 on EVM from `wallet`: the `amount` of `asset` to `recipient`, with the session id
 * as calldata suffix. Then `POST /api/payments/verify {session_id, tx_signature: <the hash>}` and retry
 * the call with `X-Session-ID`. Returns the transaction's hash as soon as it is sent (wait for its
 * receipt before verifying, or verify again on `unconfirmed`).
 */
export async function payTransfer(
  wallet: WalletClient<Transport, Chain | undefined, Account>,
  payment: PlanPayment,
  options: PayTransferOptions = {},
): Promise<Hash> {
  const amount = planAmount(payment, options.decimals ?? 6);
  const most = options.maxAmount ?? 1_000_000n;
  if (amount > most)
    throw new Error(
      `The 402 asks for ${amount} base units, more than the ${most} this client may pay at once.`,
    );
  return wallet.writeContract({
    address: payment.asset as `0x${string}`,
    abi: erc20Abi,
    functionName: "transfer",
    args: [payment.recipient as `0x${string}`, amount],
    dataSuffix: sessionSuffix(payment.session_id),
    account: wallet.account,
    chain: wallet.chain,
  });
}
