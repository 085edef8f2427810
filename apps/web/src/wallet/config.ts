import { createConfig, http } from "wagmi";
import { base, baseSepolia, foundry } from "wagmi/chains";
import { injected } from "wagmi/connectors";

/** Injected (EIP-1193) wallets on the chains the platform takes payments on. Nothing is read over RPC. */
export const wagmiConfig = createConfig({
  chains: [foundry, baseSepolia, base],
  connectors: [injected()],
  transports: { [foundry.id]: http(), [baseSepolia.id]: http(), [base.id]: http() },
});

declare module "wagmi" {
  interface Register {
    config: typeof wagmiConfig;
  }
}
