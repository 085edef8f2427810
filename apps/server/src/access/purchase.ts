import type { Context } from "hono";
import type { Logger } from "pino";
import { HttpError } from "../http/errors.ts";
import { type Offer, refusalBody } from "../payments/gate.ts";
import { alreadyUsed, type PaymentService } from "../payments/service.ts";
import type { RobotEntry } from "../robots/registry.ts";
import type { RobotService } from "../robots/service.ts";
import type { AccessService } from "./service.ts";
import type { AccessSession } from "./store.ts";
import { walletKey } from "./wallet.ts";

/** How a purchase is made: one implementation per payment mode, chosen once in app.ts. */
export type PurchaseHandler = (
  c: Context,
  robotHost: string,
  claimedWallet: string | undefined,
) => Promise<Response>;

/** The plan's free mode: the wallet in X-Wallet-Address gets the robot, nothing is charged. */
export function freePurchase(access: AccessService): PurchaseHandler {
  return async (c, robotHost, claimedWallet) => {
    if (!claimedWallet) {
      return c.json(
        { detail: [{ type: "missing", loc: ["header", "x-wallet-address"], msg: "Field required" }] },
        422,
      );
    }
    return c.json(await access.purchase(claimedWallet, robotHost), 200);
  };
}

export const PURCHASE_PATH = "/api/v1/access/purchase";

export type CrashPoint = "verify" | "lock" | "settle" | "session";

/**
 * Paid mode: verify the payment → hold the robot → settle → open the session. A robot that is busy or
 * offline is found before settlement, so nobody pays for what they cannot have; a settlement that
 * fails lets the robot go. The session belongs to whoever signed the payment.
 */
export function paidPurchase(
  access: AccessService,
  payments: PaymentService,
  robots: RobotService,
  /** What a session on this robot costs, who is paid, and how x402 describes it (its catalog listing). */
  termsFor: (robot: RobotEntry) => Omit<Offer, "path">,
  logger: Logger,
  crashAfter?: CrashPoint,
): PurchaseHandler {
  // Test-only: dies at a chosen step, so a test can prove what a restart recovers.
  const crash = (point: CrashPoint) => {
    if (crashAfter !== point) return;
    logger.fatal({ point }, "ROBO402_CRASH_AFTER: killing the process");
    process.kill(process.pid, "SIGKILL");
  };

  return async (c, robotHost, claimedWallet) => {
    const robot = robots.find(robotHost);
    const resource = `access:${robot.id}`;
    const hasPayment = Boolean(c.req.header("payment-signature") ?? c.req.header("x-payment"));
    // Tell a buyer the robot is unavailable before asking for money.
    if (!hasPayment) await access.assertAvailable(robot);

    const checkout = await payments.checkout(c, resource, { path: PURCHASE_PATH, ...termsFor(robot) });
    if (checkout.kind === "repeat") {
      const repeated = checkout.payment.sessionId
        ? await access.reissue(checkout.payment.sessionId)
        : undefined;
      // What it bought has ended: the retry is an ordinary replay.
      if (!repeated) throw alreadyUsed(checkout.payment);
      return c.json(repeated, 200);
    }
    if (checkout.kind === "respond") {
      return c.json(
        refusalBody(checkout.response),
        checkout.response.status as 402,
        checkout.response.headers,
      );
    }
    const { verified } = checkout;
    const { payment } = verified;
    crash("verify");

    if (claimedWallet && walletKey(claimedWallet) !== payment.payer) {
      await payments.reject(payment, "X-Wallet-Address differs from the payer");
      throw new HttpError(
        400,
        `X-Wallet-Address ${claimedWallet} is not the wallet that signed this payment (${payment.payer}).`,
      );
    }
    let held: AccessSession;
    try {
      // Held by anyone, the payer included, is a 409: a double click must not buy the same time twice.
      await access.assertAvailable(robot);
      held = await access.reserve(payment.payer, robot, payment.id);
    } catch (error) {
      // The hold may have been written before what failed (a cache that could not be reached).
      await access.abandonFor(payment.id);
      await payments.reject(payment, (error as Error).message);
      throw error;
    }
    crash("lock");

    // Should settlement throw, its outcome is unknown: the hold stays until recovery asks the chain.
    const settled = await payments.settle(c, verified, held.id);
    if (!settled.ok) {
      await access.abandon(held);
      return c.json(refusalBody(settled.response), settled.response.status as 402, settled.response.headers);
    }
    crash("settle");

    const granted = await access.activate(held, settled.txHash);
    if (!granted) {
      await payments.refundDue(payment, "the robot's hold lapsed before the session opened");
      throw new HttpError(
        409,
        `Robot '${robot.id}' was released before your payment settled; a refund is due.`,
      );
    }
    await payments.granted(payment, held.id);
    crash("session");
    return c.json(granted, 200, settled.headers);
  };
}

/**
 * Finishes purchases a crash interrupted: a settled payment gets the session it paid for, or, when
 * that session can no longer open, is marked for refund. Never a payment settled with nothing to show.
 */
export async function recoverPurchases(
  access: AccessService,
  payments: PaymentService,
  graceMs: number,
  logger: Logger,
): Promise<void> {
  const { owed, dropped } = await payments.recover(graceMs);
  for (const payment of dropped) await access.abandonFor(payment.id);
  for (const payment of owed) {
    const held = payment.sessionId ? await access.session(payment.sessionId) : undefined;
    if (held && !held.endedAt && !held.pending) {
      await payments.granted(payment, held.id);
      continue;
    }
    const granted = held && !held.endedAt ? await access.activate(held, payment.txHash) : undefined;
    if (granted && held) {
      await payments.granted(payment, held.id);
      logger.info(
        { payment: payment.id, robot: held.robotId, payer: payment.payer },
        "recovered a paid session",
      );
    } else {
      await payments.refundDue(payment, "the session it paid for could not be opened after a restart");
    }
  }
}
