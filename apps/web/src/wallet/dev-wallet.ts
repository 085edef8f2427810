import type { ClientEvmSigner } from "@x402/evm";
import { privateKeyToAccount } from "viem/accounts";

/**
 * Anvil's well-known account #2, which the local chain (devchain) funds with test USDC: a newcomer on
 * `X402_NETWORK=local` pays with no wallet extension. Public knowledge, worthless anywhere else.
 * (#1 is the README's CLI example, #8 the local payee, #9 the facilitator.)
 */
export const DEV_PRIVATE_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

const account = privateKeyToAccount(DEV_PRIVATE_KEY);

export const devWallet: ClientEvmSigner = {
  address: account.address,
  signTypedData: (message) => account.signTypedData(message as Parameters<typeof account.signTypedData>[0]),
};
