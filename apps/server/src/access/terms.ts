import type { Payment } from "../payments/ledger.ts";
import { type Payees, type PaymentNetwork, payeesOr } from "../payments/networks.ts";
import { type Offer, termsOn } from "../payments/x402.ts";
import type { RobotEntry } from "../robots/controlled.ts";

/**
 * What a session on a robot costs, who is paid and how x402 describes it: the robot's catalog listing,
 * else the platform's price and payees.
 */
export function sessionTerms(
  networks: readonly PaymentNetwork[],
  payees: Payees,
  session: { readonly price: string; readonly minutes: number },
): (robot: RobotEntry) => Omit<Offer, "resource"> {
  return (robot) => ({
    accepts: termsOn(
      networks,
      robot.listing?.price ?? session.price,
      payeesOr(robot.listing?.payees, payees),
    ),
    description: `${session.minutes} minutes of control of ${robot.id}`,
  });
}

// What the ledger says a time-based purchase bought: `access:<robot>`.
const PURCHASE = "access:";

export const purchaseResource = (robot: RobotEntry): string => `${PURCHASE}${robot.id}`;

/** Whether a ledger payment bought time on a robot (as opposed to a call). */
export const isPurchase = (payment: Payment): boolean => payment.resource.startsWith(PURCHASE);
