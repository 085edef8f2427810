/**
 * Checking that an ordinary on-chain token transfer paid for something. One verifier per chain family
 * (EVM here, Solana beside it), all answering with the same TransferCheck, so the route that marks a
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
   * When the paying account has a linked wallet, the transfer must come from it (a verifier ignores a
   * wallet of another chain family: an EVM wallet says nothing about who pays on Solana).
   */
  payer?: string;
  /** The memo the transfer must carry (Solana: the payment session's id); EVM transfers carry none. */
  memo?: string;
}

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
  | "wrong_payer";

/**
 * The verdict. A refusal's `reason` is a sentence for the person who paid. Only `unconfirmed` and
 * `not_found` (a transaction still on its way to the node) can turn into a pass when asked again.
 */
export type TransferCheck =
  | { ok: true; payer: string; amount: bigint; blockNumber: bigint /** normalized */; txHash: string }
  | { ok: false; reason: string; code: TransferRefusal };
