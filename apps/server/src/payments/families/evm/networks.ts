import { DEV_ACCOUNTS, type Devchain, TEST_USDC } from "@robo402/devchain";
import type { Config, Network } from "../../../config.ts";
import { ConfigError } from "../../../config.ts";
import type { NetworkTerms } from "../types.ts";

// Circle's USDC on Base; the EIP-712 domain is what its EIP-3009 signatures are made over.
const PUBLIC_EVM = {
  "base-sepolia": {
    rpcUrl: "https://sepolia.base.org",
    facilitator: "https://x402.org/facilitator",
    asset: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", decimals: 6, name: "USDC", version: "2" },
  },
  base: {
    rpcUrl: "https://mainnet.base.org",
    facilitator: undefined,
    asset: {
      address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
      decimals: 6,
      name: "USD Coin",
      version: "2",
    },
  },
} as const;

// The local dev wallet that receives payments when PAYMENT_ADDRESS is not set (anvil account #8).
const LOCAL_PAYEE = DEV_ACCOUNTS[8]?.address as string;

/** `local` (anvil with the test USDC, embedded or at EVM_RPC_URL), `base-sepolia` and `base`. */
export function openEvmNetwork(name: Network, config: Config, devchain: Devchain | undefined): NetworkTerms {
  if (name === "local") {
    const local = { asset: TEST_USDC, payTo: config.PAYMENT_ADDRESS || LOCAL_PAYEE };
    if (devchain) return { ...local, facilitatorUrl: devchain.facilitatorUrl, rpcUrl: devchain.rpcUrl };
    if (!config.EVM_RPC_URL)
      throw new ConfigError("EVM_RPC_URL: needed with X402_NETWORK=local and FACILITATOR_URL");
    return { ...local, facilitatorUrl: config.FACILITATOR_URL as string, rpcUrl: config.EVM_RPC_URL };
  }
  if (name !== "base-sepolia" && name !== "base") throw new Error(`${name} is not an EVM network`);
  const known = PUBLIC_EVM[name];
  const facilitatorUrl = config.FACILITATOR_URL ?? known.facilitator;
  if (!facilitatorUrl) throw new ConfigError(`FACILITATOR_URL: needed with X402_NETWORK=${name}`);
  if (!config.PAYMENT_ADDRESS) throw new ConfigError(`PAYMENT_ADDRESS: needed with X402_NETWORK=${name}`);
  return {
    asset: known.asset,
    payTo: config.PAYMENT_ADDRESS,
    facilitatorUrl,
    rpcUrl: config.EVM_RPC_URL ?? known.rpcUrl,
  };
}
