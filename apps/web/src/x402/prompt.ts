import type { ClientEvmSigner } from "@x402/evm";
import { PaymentCancelled } from "../api/errors.ts";

/** What the payment modal shows about a 402 before anyone pays. */
export interface PaymentOffer {
  /** e.g. "0.10 USDC". */
  readonly amount: string;
  /** A readable network name, and its CAIP-2 id. */
  readonly network: string;
  readonly networkId: string;
  readonly service: string;
  readonly payTo: string;
}

export type PaymentStage =
  | { kind: "review" }
  | { kind: "paying" }
  | { kind: "verifying" }
  | { kind: "confirmed" }
  | { kind: "failed"; reason: string };

export interface PaymentPromptState {
  readonly offer: PaymentOffer;
  readonly stage: PaymentStage;
}

type Listener = () => void;

/**
 * The bridge between the fetch wrapper (which meets the 402) and the modal (which asks the user): one
 * payment at a time, its offer and stage, and the wallet the user chose to pay with.
 */
export class PaymentPrompt {
  private current: PaymentPromptState | null = null;
  private answer: { resolve(signer: ClientEvmSigner): void; reject(error: Error): void } | null = null;
  private readonly listeners = new Set<Listener>();

  readonly subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly state = () => this.current;

  /** Shows the offer and waits for the user to pay (with that wallet) or cancel (PaymentCancelled). */
  approve(offer: PaymentOffer): Promise<ClientEvmSigner> {
    this.answer?.reject(new PaymentCancelled());
    this.set({ offer, stage: { kind: "review" } });
    return new Promise((resolve, reject) => {
      this.answer = { resolve, reject };
    });
  }

  /** The modal's Pay button. */
  pay(signer: ClientEvmSigner): void {
    this.stage({ kind: "paying" });
    this.answer?.resolve(signer);
    this.answer = null;
  }

  /** The modal's Cancel or Close: a pending payment is refused; a finished one is just hidden. */
  dismiss(): void {
    this.answer?.reject(new PaymentCancelled());
    this.answer = null;
    this.set(null);
  }

  stage(stage: PaymentStage): void {
    if (this.current) this.set({ ...this.current, stage });
  }

  private set(state: PaymentPromptState | null) {
    this.current = state;
    for (const listener of this.listeners) listener();
  }
}

export const paymentPrompt = new PaymentPrompt();
