import type { Logger } from "pino";
import { parseUnits } from "viem";
import type { Db } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import type { Received, TransferCheck, TransferVerifier } from "../payments/families/transfer.ts";
import type { PaymentNetwork } from "../payments/networks.ts";
import type { SpentTransactions } from "../payments/spent.ts";
import type { UnmatchedTransfers } from "../payments/unmatched.ts";
import { Refusal } from "../refusal.ts";
import type { CallQuote, ExecuteStore } from "./store.ts";

/** What the transfer flow needs of accounts: the wallet an account proved it holds (SIWE), lower case. */
export interface LinkedWallets {
  walletOf(userId: string): Promise<string | null>;
}

/** Where a session's status changes are announced (the `/ws/session/{id}` sockets listen). */
export interface PaidAnnouncer {
  publish(sessionId: string, status: "paid"): Promise<void>;
}

/** Paid mode's chains (by CAIP-2 id) and each one's on-chain transfer verifier. */
export interface TransferChains {
  readonly networks: readonly PaymentNetwork[];
  readonly verifiers: ReadonlyMap<string, TransferVerifier>;
}

/** Why a transfer paid nothing: a verifier's check, or the flow's own rules. */
export type TransferRefusalCode =
  | Exclude<TransferCheck, { ok: true }>["code"]
  | "unsupported_network"
  | "already_paid"
  | "expired"
  | "reused"
  | "refunded";

export type TransferVerifyResult =
  | { verified: true; session_id: string; tx_signature: string }
  | { verified: false; error: string; code: TransferRefusalCode };

// Refusals in which the money did reach the robot's wallet and stays there: recorded for a refund.
// `reused` is not one: its transaction paid something (spent_transactions says what), so nothing is owed.
const KEPT_MONEY = new Set<TransferRefusalCode>([
  "unproven_payer",
  "wrong_memo",
  "wrong_payer",
  "amount_too_low",
  "too_old",
  "expired",
  "already_paid",
]);

class Raced extends Error {}

/**
 * The second plan's `POST /api/payments/verify`: an ordinary on-chain transfer, made after a 402, pays
 * that 402's payment session. The transfer must show whose it is (Solana: the session id as memo; EVM:
 * the session id as a calldata suffix, or tokens from the wallet linked to the session's account), pay
 * the session's recipient enough of its asset, and never have paid anything else on the platform: its
 * transaction is claimed in spent_transactions (which x402 settlements share) in the same database
 * transaction that marks the session paid. A transfer that reached the recipient and paid nothing is
 * recorded in unmatched_transfers for the robot's owner to send back.
 */
export class TransferPayments {
  constructor(
    private readonly store: ExecuteStore,
    private readonly spent: SpentTransactions,
    private readonly unmatched: UnmatchedTransfers,
    private readonly accounts: LinkedWallets,
    private readonly events: PaidAnnouncer,
    private readonly logger: Logger,
    /** undefined in free mode: nothing is charged, so nothing is verified. */
    private readonly chains?: TransferChains,
  ) {}

  /** Checks `txSignature` on chain and, if it pays session `sessionId`, marks the session paid. */
  async verify(sessionId: string, txSignature: string): Promise<TransferVerifyResult> {
    if (!this.chains)
      throw new Refusal("conflict", "Payments are disabled on this server (PAYMENT_ENABLED=false).");
    const session = await this.store.get(sessionId);
    if (!session) throw new Refusal("not_found", `Payment session ${sessionId} not found.`);
    const network = this.chains.networks.find((accepted) => accepted.id === session.network);
    const verifier = this.chains.verifiers.get(session.network);
    if (!network || !verifier)
      return refused(
        "unsupported_network",
        `Session ${session.id} is on ${session.network}, which this server no longer accepts; ask for a new 402.`,
      );
    const tx = verifier.canonical(txSignature.trim());
    if (session.status === "paid" || session.status === "completed") {
      if (session.txSignature === tx) return { verified: true, session_id: session.id, tx_signature: tx };
    }

    // A transaction that already paid something (an x402 settlement, another session) is refused before
    // the chain is asked; the claim below closes the race between two verifies of one transaction.
    if (await this.spent.paidBy(session.network, tx)) return reused(tx);

    const linked = session.userId ? await this.accounts.walletOf(session.userId) : null;
    const check = await verifier.verify({
      txHash: tx,
      asset: session.asset,
      recipient: session.recipientAddress,
      minAmount: parseUnits(session.amount, network.asset.decimals),
      notBefore: session.createdAt,
      sessionId: session.id,
      linkedWallet: linked ?? undefined,
    });
    // A session that can no longer be paid says so, whatever the transfer; the transfer is still looked
    // at, so that money sent to it is recorded with what was wrong with it.
    const closed = closedReason(session);
    if (!check.ok) {
      await this.#record(session, check.code, check.reason, check.received);
      return closed ?? refused(check.code, check.reason);
    }
    const received = { sender: check.payer, amount: check.amount, txHash: check.txHash };
    if (closed) {
      await this.#record(session, closed.code, closed.error, received);
      return closed;
    }

    let paid: CallQuote;
    try {
      const outcome = await this.store.transaction((db) => this.#claim(db, session, check));
      if (outcome.kind !== "paid") return outcome.refusal;
      paid = outcome.session;
    } catch (error) {
      // Raced with another verify or the expiry sweep: the session is no longer pending; look again.
      if (error instanceof Raced) return this.verify(sessionId, txSignature);
      if (isUniqueViolation(error)) return reused(check.txHash);
      throw error;
    }
    this.logger.info(
      { session: paid.id, tx: paid.txSignature, payer: paid.payer, proof: check.proof },
      "payment session paid by transfer",
    );
    await this.events.publish(paid.id, "paid");
    return { verified: true, session_id: paid.id, tx_signature: check.txHash };
  }

  /** One database transaction: the transaction's one use claimed, the session paid, its unmatched record gone. */
  async #claim(
    db: Db,
    session: CallQuote,
    check: TransferCheck & { ok: true },
  ): Promise<{ kind: "paid"; session: CallQuote } | { kind: "refused"; refusal: TransferVerifyResult }> {
    const record = await this.unmatched.lock(session.network, check.txHash, db);
    if (record?.refundedAt)
      return {
        kind: "refused",
        refusal: refused(
          "refunded",
          `Transaction ${check.txHash} was sent back to ${record.sender} by the robot's owner (${record.refundTx}); it pays nothing now. Send a new transfer.`,
        ),
      };
    const claimed = await this.spent.claim(
      session.network,
      check.txHash,
      { kind: "session", id: session.id },
      db,
    );
    if (!claimed) return { kind: "refused", refusal: reused(check.txHash) };
    const paid = await this.store.markPaid(
      session.id,
      { txSignature: check.txHash, payer: check.payer, paidAt: new Date() },
      db,
    );
    if (!paid) throw new Raced(); // undoes the claim
    await this.unmatched.forget(session.network, check.txHash, db);
    return { kind: "paid", session: paid };
  }

  /** Money that reached the robot's wallet, was refused and stays there: recorded for a refund. */
  async #record(
    session: CallQuote,
    code: TransferRefusalCode,
    reason: string,
    received: Received | undefined,
  ): Promise<void> {
    if (!received || !KEPT_MONEY.has(code)) return;
    await this.unmatched.record({
      network: session.network,
      txHash: received.txHash,
      asset: session.asset,
      sender: received.sender,
      recipient: session.recipientAddress,
      amount: received.amount.toString(),
      code,
      reason,
      paymentSessionId: session.id,
      robotId: session.robotId,
    });
    this.logger.warn(
      {
        session: session.id,
        tx: received.txHash,
        sender: received.sender,
        amount: received.amount.toString(),
        code,
      },
      "transfer reached the robot's wallet but paid nothing; recorded as unmatched",
    );
  }
}

/** Why a session takes no payment any more (paid by another transaction, or expired); undefined if it does. */
function closedReason(session: CallQuote): (TransferVerifyResult & { verified: false }) | undefined {
  if (session.status === "paid" || session.status === "completed")
    return {
      verified: false,
      code: "already_paid",
      error: `Session ${session.id} is already paid by ${session.txSignature}; a transfer to it that paid nothing is recorded for the robot's owner to send back.`,
    };
  if (session.status === "expired" || session.expiresAt <= new Date())
    return {
      verified: false,
      code: "expired",
      error: `Session ${session.id} expired at ${session.expiresAt.toISOString()}; ask for a new 402. A transfer to it that paid nothing is recorded for the robot's owner to send back.`,
    };
  return undefined;
}

function refused(code: TransferRefusalCode, error: string): TransferVerifyResult {
  return { verified: false, error, code };
}

const reused = (txHash: string) =>
  refused(
    "reused",
    `Transaction ${txHash} already paid something else on this platform; a transfer pays once.`,
  );
