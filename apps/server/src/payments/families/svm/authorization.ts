import { getBase58Decoder, getBase64Encoder, getTransactionDecoder, type Transaction } from "@solana/kit";
import type { PaymentPayload } from "@x402/core/types";
import { getTokenPayerFromTransaction } from "@x402/svm";
import { z } from "zod";
import type { Authorization } from "../types.ts";

// A blockhash is valid for 150 slots (about 60 s at 400 ms a slot); the margin covers slow slots.
const BLOCKHASH_LIFETIME_MS = 120_000;

// @x402/svm's `exact` payload: the payer's partly signed transfer, base64; the facilitator adds the fee payer's signature.
const SvmPayload = z.object({ transaction: z.string().min(1).max(4096) });

/**
 * Who pays in an `exact` Solana payment (the TransferChecked's authority, as the facilitator reads it)
 * and its one-time id: the payer's own signature over the transaction, which no other payment can carry.
 */
export function svmAuthorizationOf(payload: PaymentPayload): Authorization | { problem: string } {
  const problem = (detail: string) => ({
    problem: `a well-formed Solana 'exact' payment (payload.transaction: ${detail})`,
  });
  const parsed = SvmPayload.safeParse(payload.payload);
  if (!parsed.success) return problem("expected a base64-encoded Solana transaction");
  let transaction: Transaction;
  try {
    transaction = getTransactionDecoder().decode(getBase64Encoder().encode(parsed.data.transaction));
  } catch {
    return problem("not a Solana transaction");
  }
  const payer = getTokenPayerFromTransaction(transaction);
  if (!payer) return problem("no token transfer to pay with");
  const signature = (transaction.signatures as Record<string, Uint8Array | null>)[payer];
  if (!signature) return problem(`not signed by the payer ${payer}`);
  // The payload does not say which blockhash it was built on; none lives longer than this after being read.
  const validBefore = new Date(Date.now() + BLOCKHASH_LIFETIME_MS);
  return { payer, nonce: getBase58Decoder().decode(signature), validBefore };
}
