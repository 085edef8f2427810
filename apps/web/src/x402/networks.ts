import { networkLabel, PAYMENT_NETWORKS } from "@robo402/protocol";
import { formatUnits } from "viem";

/** The local chain: its dev keys hold test money, so the dev wallet is offered there only. */
export const LOCAL_NETWORK = PAYMENT_NETWORKS.local.id;

export const networkName = (id: string | null | undefined) => (id ? (networkLabel(id) ?? id) : "none");

// Every asset the platform takes (USDC, the local test USDC) has 6 decimals.
const USDC_DECIMALS = 6;

/** Base units of the 402's asset as "0.10 USDC". */
export function formatAmount(baseUnits: string, assetName = "USDC"): string {
  const value = formatUnits(BigInt(baseUnits), USDC_DECIMALS);
  const [whole, fraction = ""] = value.split(".");
  return `${whole}.${fraction.padEnd(2, "0")} ${assetName}`;
}

/** A catalog price ("0.1") as money: "0.10". */
export const usdc = (price: string) => {
  const [whole, fraction = ""] = price.split(".");
  return `${whole}.${fraction.padEnd(2, "0")}`;
};
