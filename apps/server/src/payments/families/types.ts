import type { Devchain } from "@robo402/devchain";
import type { PaymentPayload, SchemeNetworkServer } from "@x402/core/types";
import type { Config, Network } from "../../config.ts";
import type { Payment } from "../ledger.ts";
import type { PaymentAsset, PaymentNetwork } from "../networks.ts";
import type { TransferVerifier } from "./transfer.ts";

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

/** What the chain says of an interrupted settlement. */
export type Settlement = { landed: false } | { landed: true; txHash: string | null };

/** What configuration decides about one of a family's networks: its asset, its payee and where it is reached. */
export interface NetworkTerms {
  readonly asset: PaymentAsset;
  /** Where payments go when a robot names no address of its own on this family. */
  readonly payTo: string;
  readonly facilitatorUrl: string;
  /** Where the chain is read from (interrupted settlements, the plan flow's transfers, Solana clients). */
  readonly rpcUrl: string;
}

/**
 * One chain family, a plug-in registered by family (families/index.ts): how its networks open from
 * configuration, x402's server scheme, what its `exact` payload says, how its addresses compare, how its
 * chain answers after a crash, and how a plain transfer is checked. The payment path looks families up
 * by network; it never asks which one it is on.
 */
export interface ChainFamily {
  /** The CAIP-2 namespace of this family's network ids. */
  readonly namespace: string;
  /**
   * One of this family's networks (its CAIP-2 id is in `namespace`) as configuration sets it up, or a
   * ConfigError naming what is missing; `devchain` is the embedded chain a local network runs on, if any.
   */
  open(name: Network, config: Config, devchain: Devchain | undefined): NetworkTerms;
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
