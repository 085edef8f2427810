import type { ExecutionLogResponse, PaymentSessionResponse } from "@robo402/protocol";
import type { z } from "zod";
import { trimDecimal } from "../robots/robot-json.ts";
import type { CallQuote, ExecutionLog } from "./store.ts";

export function paymentJson(session: CallQuote): z.infer<typeof PaymentSessionResponse> {
  return {
    id: session.id,
    user_id: session.userId,
    robot_id: session.robotId,
    amount: trimDecimal(session.amount),
    currency: "USDC",
    network: session.network,
    asset: session.asset,
    recipient_address: session.recipientAddress,
    status: session.status,
    tx_signature: session.txSignature,
    payer: session.payer,
    service: session.service,
    created_at: session.createdAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    paid_at: session.paidAt?.toISOString() ?? null,
  };
}

export function executionJson(log: ExecutionLog): z.infer<typeof ExecutionLogResponse> {
  return {
    id: log.id,
    session_id: log.sessionId,
    robot_id: log.robotId,
    user_id: log.userId,
    status: log.status,
    response_time: log.responseTime,
    error: log.error,
    executed_at: log.executedAt.toISOString(),
  };
}

/** A payment as a robot's recent-payments list shows it. */
export function recentPaymentJson(session: CallQuote) {
  const { id, amount, currency, payer, tx_signature, service, status, paid_at } = paymentJson(session);
  return { session_id: id, amount, currency, payer, tx_signature, service, status, paid_at };
}
