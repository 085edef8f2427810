/**
 * Checking that an ordinary on-chain token transfer paid for something. One verifier per chain family
 * (each family's transfer.ts), all answering with the same TransferCheck, so the route that marks a
 * session paid never asks which chain it is on.
 */
export interface TransferVerifier {
  verify(claim: TransferClaim): Promise<TransferCheck>;
  /** The form a transaction id is stored and compared in (EVM hashes are case-insensitive hex, Solana's base58 is not). */
  canonical(txHash: string): string;
}

/** What a transfer must be to pay: the client names the transaction, the session gives the rest. */
export interface TransferClaim {
  txHash: string;
  /** The token contract (mint on Solana) the price is in. */
  asset: string;
  recipient: string;
  /** In the token's base units. */
  minAmount: bigint;
  /** The payment session's creation: a transfer mined before it cannot be for it. */
  notBefore: Date;
  /**
   * The payment session's id, which the transfer must carry to show whose it is: Solana's memo, or on
   * EVM the 16 bytes of the id right after the ERC-20 `transfer` arguments (a calldata suffix).
   */
  sessionId: string;
  /**
   * The wallet linked (by SIWE) to the account that opened the session, if any. On EVM a transfer from
   * it needs no suffix: the account proved it holds that wallet. A verifier ignores a wallet of another
   * chain family (an EVM wallet says nothing about who pays on Solana).
   */
  linkedWallet?: string;
}

/** How a transfer showed which session it pays. */
export type TransferProof = "memo" | "suffix" | "linked_wallet";

export type TransferRefusal =
  | "malformed"
  | "not_found"
  | "unconfirmed"
  | "reverted"
  | "wrong_asset"
  | "wrong_mint"
  | "wrong_memo"
  | "wrong_recipient"
  | "amount_too_low"
  | "too_old"
  | "wrong_payer"
  | "unproven_payer";

/**
 * Tokens of the asset that did reach the recipient in a refused transaction, final enough to count
 * (confirmed as the verifier requires): who sent them and how much, so they can be sent back.
 */
export interface Received {
  sender: string;
  /** Base units. */
  amount: bigint;
  /** Canonical form. */
  txHash: string;
}

/**
 * The verdict. A refusal's `reason` is a sentence for the person who paid. Only `unconfirmed` and
 * `not_found` (a transaction still on its way to the node) can turn into a pass when asked again.
 */
export type TransferCheck =
  | {
      ok: true;
      payer: string;
      amount: bigint;
      blockNumber: bigint /** normalized */;
      txHash: string;
      proof: TransferProof;
    }
  | { ok: false; reason: string; code: TransferRefusal; received?: Received };
