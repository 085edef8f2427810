import { DEV_ACCOUNTS, type Devchain, startDevchain, TEST_USDC } from "@robo402/devchain";
import type { Network as CaipNetwork, Price } from "@x402/core/types";
import type { Config } from "../config.ts";
import { ConfigError } from "../config.ts";

/** The token prices are paid in: its contract, decimals and EIP-712 domain (EIP-3009 signatures name it). */
export interface PaymentAsset {
  readonly address: string;
  readonly decimals: number;
  readonly name: string;
  readonly version: string;
}

/** Everything the payment gate needs to know about the chain it takes money on. */
export interface PaymentNetwork {
  readonly name: Config["X402_NETWORK"];
  /** CAIP-2 id, as x402 v2 names networks. */
  readonly id: CaipNetwork;
  readonly asset: PaymentAsset;
  /** The time-based session's price (SESSION_PRICE), in `asset`. */
  readonly price: Price;
  /** Where payments go when a robot names no wallet of its own (PAYMENT_ADDRESS). */
  readonly payTo: string;
  readonly facilitatorUrl: string;
  /** Where the chain is read from when an interrupted settlement must be checked. */
  readonly rpcUrl: string;
  /** The embedded chain, when the platform started one. */
  readonly devchain?: Devchain;
}

// Circle's USDC on Base; the EIP-712 domain is what its EIP-3009 signatures are made over.
const PUBLIC_EVM = {
  "base-sepolia": {
    id: "eip155:84532",
    rpcUrl: "https://sepolia.base.org",
    facilitator: "https://x402.org/facilitator",
    asset: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", decimals: 6, name: "USDC", version: "2" },
  },
  base: {
    id: "eip155:8453",
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

/** "$0.10" → 100000 base units of a 6-decimal token, without floating point. */
export function dollarsToBaseUnits(price: string, decimals: number): string {
  const [whole = "0", fraction = ""] = price.replace("$", "").split(".");
  return (
    BigInt(whole) * 10n ** BigInt(decimals) +
    BigInt(fraction.padEnd(decimals, "0").slice(0, decimals) || "0")
  ).toString();
}

/** A dollar price (`$0.10` or `0.10`) as x402 states it: base units of the network's own asset. */
export function priceIn(asset: PaymentAsset, dollars: string): Price {
  return {
    amount: dollarsToBaseUnits(dollars, asset.decimals),
    asset: asset.address,
    extra: { name: asset.name, version: asset.version },
  };
}

/**
 * Resolves X402_NETWORK into a payment network. `local` starts the embedded devchain (anvil, test USDC
 * and a facilitator) unless FACILITATOR_URL and EVM_RPC_URL point at one already running.
 */
export async function openPaymentNetwork(config: Config): Promise<PaymentNetwork> {
  const name = config.X402_NETWORK;
  if (name === "local") {
    const asset = TEST_USDC;
    const localPrice = priceIn(asset, config.SESSION_PRICE);
    const payTo = config.PAYMENT_ADDRESS || LOCAL_PAYEE;
    if (config.FACILITATOR_URL) {
      if (!config.EVM_RPC_URL)
        throw new ConfigError("EVM_RPC_URL: needed with X402_NETWORK=local and FACILITATOR_URL");
      return {
        name,
        id: "eip155:31337",
        asset,
        price: localPrice,
        payTo,
        facilitatorUrl: config.FACILITATOR_URL,
        rpcUrl: config.EVM_RPC_URL,
      };
    }
    const devchain = await startDevchain();
    return {
      name,
      id: devchain.network,
      asset,
      price: localPrice,
      payTo,
      facilitatorUrl: devchain.facilitatorUrl,
      rpcUrl: devchain.rpcUrl,
      devchain,
    };
  }
  if (name === "solana" || name === "solana-devnet") {
    throw new ConfigError(`X402_NETWORK: ${name} is not supported yet; use local, base-sepolia or base`);
  }
  const known = PUBLIC_EVM[name];
  const facilitatorUrl = config.FACILITATOR_URL ?? known.facilitator;
  if (!facilitatorUrl) throw new ConfigError(`FACILITATOR_URL: needed with X402_NETWORK=${name}`);
  if (!config.PAYMENT_ADDRESS) throw new ConfigError(`PAYMENT_ADDRESS: needed with X402_NETWORK=${name}`);
  return {
    name,
    id: known.id,
    asset: known.asset,
    price: priceIn(known.asset, config.SESSION_PRICE),
    payTo: config.PAYMENT_ADDRESS,
    facilitatorUrl,
    rpcUrl: config.EVM_RPC_URL ?? known.rpcUrl,
  };
}
