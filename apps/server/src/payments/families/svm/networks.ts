import type { Devchain } from "@robo402/devchain";
import type { Config, Network } from "../../../config.ts";
import { ConfigError } from "../../../config.ts";
import type { PaymentAsset } from "../../networks.ts";
import type { NetworkTerms } from "../types.ts";

// Circle's USDC on Solana (SPL Token, 6 decimals); x402.org's facilitator serves devnet.
const PUBLIC_SOLANA = {
  "solana-devnet": {
    rpcUrl: "https://api.devnet.solana.com",
    facilitator: "https://x402.org/facilitator",
    mint: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
  },
  solana: {
    rpcUrl: "https://api.mainnet-beta.solana.com",
    facilitator: undefined,
    mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
  },
} as const;

const splUsdc = (mint: string): PaymentAsset => ({ address: mint, decimals: 6, name: "USDC", version: "" });

// The local dev wallet that receives payments when SOLANA_PAYMENT_ADDRESS is not set (the local Solana's
// keypair #8).
const LOCAL_PAYEE_INDEX = 8;

/** `solana-local` (the devchain's litesvm, embedded or already running), `solana-devnet` and `solana`. */
export function openSvmNetwork(name: Network, config: Config, devchain: Devchain | undefined): NetworkTerms {
  if (name === "solana-local") {
    if (devchain) {
      const { solana } = devchain;
      return {
        asset: splUsdc(solana.mint),
        payTo: config.SOLANA_PAYMENT_ADDRESS || (solana.accounts[LOCAL_PAYEE_INDEX]?.address as string),
        facilitatorUrl: devchain.facilitatorUrl,
        rpcUrl: solana.rpcUrl,
      };
    }
    if (!config.SOLANA_RPC_URL || !config.SOLANA_USDC_MINT || !config.SOLANA_PAYMENT_ADDRESS)
      throw new ConfigError(
        "SOLANA_RPC_URL, SOLANA_USDC_MINT, SOLANA_PAYMENT_ADDRESS: needed with solana-local and FACILITATOR_URL (npm run devchain prints them)",
      );
    return {
      asset: splUsdc(config.SOLANA_USDC_MINT),
      payTo: config.SOLANA_PAYMENT_ADDRESS,
      facilitatorUrl: config.FACILITATOR_URL as string,
      rpcUrl: config.SOLANA_RPC_URL,
    };
  }
  if (name !== "solana-devnet" && name !== "solana") throw new Error(`${name} is not a Solana network`);
  const known = PUBLIC_SOLANA[name];
  const facilitatorUrl = config.FACILITATOR_URL ?? known.facilitator;
  if (!facilitatorUrl) throw new ConfigError(`FACILITATOR_URL: needed with ${name}`);
  if (!config.SOLANA_PAYMENT_ADDRESS) throw new ConfigError(`SOLANA_PAYMENT_ADDRESS: needed with ${name}`);
  return {
    asset: splUsdc(known.mint),
    payTo: config.SOLANA_PAYMENT_ADDRESS,
    facilitatorUrl,
    rpcUrl: config.SOLANA_RPC_URL ?? known.rpcUrl,
  };
}
