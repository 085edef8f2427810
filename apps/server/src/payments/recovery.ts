import type { Logger } from "pino";
import { FAMILIES, type Settlement } from "./families/index.ts";
import type { Payment, PaymentLedger } from "./ledger.ts";
import type { PaymentNetwork } from "./networks.ts";

/** What became of a settled payment's purchase: the session it opened, or why it is owed back. */
export type Delivery = { granted: string } | { refund: string };

export interface RecoveryOptions {
  /** Rows younger than this may belong to a purchase still under way, and are left alone. */
  readonly graceMs: number;
  /** How long one instance keeps a claimed row before another may take it. */
  readonly claimMs: number;
}

/**
 * Decides the payments a crash left between two steps. Each row is claimed before it is worked, so two
 * instances never decide one row; rows are worked one by one, so one error stops one row; a settlement
 * is called failed only once its authorization can no longer land.
 */
export class PaymentRecovery {
  constructor(
    private readonly ledger: PaymentLedger,
    private readonly networks: readonly PaymentNetwork[],
    private readonly logger: Logger,
    private readonly options: RecoveryOptions,
  ) {}

  /**
   * `deliver` finishes what a settled payment bought; `drop` lets go of what a payment that will never
   * settle was holding.
   */
  async run(
    deliver: (payment: Payment) => Promise<Delivery>,
    drop: (payment: Payment) => Promise<void>,
  ): Promise<void> {
    const now = Date.now();
    const claimed = await this.ledger.claimUnfinished(
      new Date(now - this.options.graceMs),
      new Date(now + this.options.claimMs),
      new Date(now),
    );
    for (const payment of claimed) {
      try {
        await this.#recover(payment, deliver, drop);
      } catch (err) {
        this.logger.error({ err, payment: payment.id }, "payment recovery failed for this row; will retry");
      } finally {
        // Not given back, the claim lapses by itself after `claimMs`.
        await this.ledger
          .unclaim(payment.id)
          .catch((err) => this.logger.warn({ err, payment: payment.id }, "recovery claim not released"));
      }
    }
  }

  async #recover(
    payment: Payment,
    deliver: (payment: Payment) => Promise<Delivery>,
    drop: (payment: Payment) => Promise<void>,
  ): Promise<void> {
    if (payment.status === "verified") {
      // Settlement starts only after `settling` is written: a `verified` row never moved money.
      if (await this.ledger.rejected(payment.id, "server stopped before settlement; nothing was charged"))
        await drop(payment);
      return;
    }
    let settled = payment;
    if (payment.status === "settling") {
      const landed = await this.#landed(payment);
      if (landed === undefined) return;
      if (!landed.landed) {
        if (await this.ledger.failed(payment.id, "settlement did not reach the chain before it expired"))
          await drop(payment);
        return;
      }
      if (!(await this.ledger.settled(payment, landed.txHash))) return;
      settled = { ...payment, status: "settled", txHash: landed.txHash };
    }
    const delivery = await deliver(settled);
    if ("granted" in delivery) {
      await this.ledger.granted(settled.id, delivery.granted);
      this.logger.info({ payment: settled.id, payer: settled.payer }, "recovered a paid purchase");
      return;
    }
    await this.ledger.refundDue(settled.id, delivery.refund);
    this.logger.error(
      { payment: settled.id, payer: settled.payer, reason: delivery.refund },
      "payment settled without what it paid for: refund due",
    );
  }

  /**
   * Whether an interrupted settlement reached the chain; undefined while the answer is not final (its
   * authorization could still land) or the chain cannot tell.
   */
  async #landed(payment: Payment): Promise<Settlement | undefined> {
    const network = this.networks.find((accepted) => accepted.id === payment.network);
    const settlement = network && (await FAMILIES[network.family].settled(network, payment));
    if (settlement === undefined) {
      this.logger.error(
        { payment: payment.id, payer: payment.payer, network: payment.network, nonce: payment.nonce },
        "settlement interrupted on a chain that cannot say whether it landed; check the payer's transfer by hand",
      );
      return undefined;
    }
    if (settlement.landed)
      return { landed: true, txHash: settlement.txHash ?? `authorization:${payment.nonce}` };
    // Not on chain yet, but the authorization may still be submitted: only its expiry makes "no" final.
    const stillValid = payment.validBefore ? payment.validBefore.getTime() > Date.now() : false;
    return stillValid ? undefined : { landed: false };
  }
}
