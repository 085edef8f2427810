import type { Context } from "hono";
import type { Logger } from "pino";
import { type PaidRoute, x402Route } from "../http/x402.ts";
import type { Payment } from "../payments/ledger.ts";
import { alreadyUsed, type Offer, type X402Payments } from "../payments/x402.ts";
import { Refusal } from "../refusal.ts";
import type { RobotEntry } from "../robots/controlled.ts";
import type { RobotGateway } from "../robots/gateway.ts";
import type { AccessService } from "./service.ts";
import type { AccessSession } from "./store.ts";
import { purchaseResource } from "./terms.ts";
import { walletKey } from "./wallet.ts";

/** How a purchase is made: one implementation per payment mode, chosen once in platform/payments.ts. */
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

export type CrashPoint = "verify" | "lock" | "settle" | "session";

/**
 * Paid mode: verify the payment → hold the robot → settle → open the session, through the one x402
 * path. A robot that is busy or offline is found before settlement, so nobody pays for what they
 * cannot have; a settlement that fails lets the robot go. The session belongs to whoever signed the
 * payment.
 */
export function paidPurchase(
  access: AccessService,
  payments: X402Payments,
  robots: RobotGateway,
  /** What a session on this robot costs, who is paid, and how x402 describes it (its catalog listing). */
  termsFor: (robot: RobotEntry) => Omit<Offer, "resource">,
  logger: Logger,
  crashAfter?: CrashPoint,
): PurchaseHandler {
  // Test-only: dies at a chosen step, so a test can prove what a restart recovers.
  const crash = (point: CrashPoint) => {
    if (crashAfter !== point) return;
    logger.fatal({ point }, "ROBO402_CRASH_AFTER: killing the process");
    process.kill(process.pid, "SIGKILL");
  };

  const pay = x402Route(payments);
  return (c, robotHost, claimedWallet) => {
    const robot = robots.find(robotHost);
    // With a payment, whether the robot answers is asked while the facilitator verifies.
    let online: Promise<void> | undefined;
    const route: PaidRoute = {
      async offer(paid) {
        // Tell a buyer the robot is unavailable before asking for money.
        if (!paid) await access.assertAvailable(robot, { quote: true });
        else {
          online = access.assertOnline(robot);
          online.catch(() => {}); // awaited by the purchase; a payment refused first never asks
        }
        return { resource: purchaseResource(robot), ...termsFor(robot) };
      },
      async repeat(payment) {
        const repeated = payment.sessionId ? await access.reissue(payment.sessionId) : undefined;
        // What it bought has ended: the retry is an ordinary replay.
        if (!repeated) throw alreadyUsed(payment);
        return c.json(repeated, 200);
      },
    };
    return pay(c, route, async ({ payment }) => {
      crash("verify");
      if (claimedWallet && walletKey(claimedWallet) !== payment.payer) {
        throw new Refusal(
          "malformed",
          `X-Wallet-Address ${claimedWallet} is not the wallet that signed this payment (${payment.payer}).`,
        );
      }
      let held: AccessSession;
      try {
        await online;
        // Held by anyone, the payer included, is a 409 (the hold's unique index decides): a double click
        // must not buy the same time twice.
        held = await access.reserve(payment.payer, robot, payment.id);
      } catch (error) {
        // Should what follows the hold's commit fail (ending the sessions it replaced), the hold is let go.
        await access.abandonFor(payment.id);
        throw error;
      }
      crash("lock");
      return {
        sessionId: held.id,
        undo: () => access.abandon(held),
        async deliver(settled) {
          crash("settle");
          const granted = await access.activate(held, settled.txHash);
          if (!granted) {
            throw new Refusal(
              "conflict",
              `Robot '${robot.id}' was released before your payment settled; a refund is due.`,
            );
          }
          crash("session");
          return c.json(granted, 200);
        },
      };
    });
  };
}
