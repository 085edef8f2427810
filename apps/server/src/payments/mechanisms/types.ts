import type { PaymentPayload, SchemeNetworkServer } from "@x402/core/types";
import type { Payment } from "../ledger.ts";
import type { PaymentNetwork } from "../networks.ts";
import type { TransferVerifier } from "../onchain/types.ts";

/** Who signed an `exact` payment, its one-time id (with the payer, the ledger's unique key), and until when it can land. */
export interface Authorization {
  readonly payer: string;
  readonly nonce: string;
  /** After this the chain refuses it: no settlement of it can still be on its way. */
  readonly validBefore: Date;
}

export interface VerifierOptions {
  /** EVM: blocks that must hold a transfer, its own included. */
  readonly confirmations: number;
  /** Solana: the commitment a transfer must have reached. */
  readonly commitment: "confirmed" | "finalized";
}

/**
 * One chain family's part of the payment path, registered by family: x402's server scheme, what its
 * `exact` payload says, how its addresses compare, how its chain answers after a crash, and how a plain
 * transfer is checked. Nothing outside this folder knows which family it is on.
 */
/** What the chain says of an interrupted settlement. */
export type Settlement = { landed: false } | { landed: true; txHash: string | null };

export interface ChainMechanism {
  /** The CAIP-2 namespace of this family's network ids. */
  readonly namespace: string;
  serverScheme(): SchemeNetworkServer;
  /** The payer and one-time id of an `exact` payload of this family, or why it is not one. */
  authorization(payload: PaymentPayload): Authorization | { problem: string };
  /** The form addresses are stored and compared in (EVM hex is case-insensitive, base58 is not). */
  canonical(address: string): string;
  /**
   * Whether a settlement under way when the server died reached the chain, and by which transaction;
   * undefined when this family's chain cannot tell from what the ledger holds.
   */
  settled(network: PaymentNetwork, payment: Payment): Promise<Settlement | undefined>;
  verifier(network: PaymentNetwork, options: VerifierOptions): TransferVerifier;
}
