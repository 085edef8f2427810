/**
 * The bench's chain, in its own process so the facilitator shares a CPU with neither the client nor the
 * servers: anvil, the local Solana, their test USDC and the x402 facilitator. Prints one JSON line once ready; SIGTERM stops
 * anvil and the facilitator.
 */
import { startDevchain } from "@robo402/devchain";

const chain = await startDevchain();

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  void chain.close().finally(() => process.exit(0));
};
process.once("SIGTERM", close);
process.once("SIGINT", close);

const { rpcUrl, facilitatorUrl, token, accounts, solana } = chain;
console.log(
  JSON.stringify({
    rpcUrl,
    facilitatorUrl,
    token,
    accounts,
    solana: {
      rpcUrl: solana.rpcUrl,
      network: solana.network,
      mint: solana.mint,
      accounts: solana.accounts.map(({ address, secretKey }) => ({ address, secretKey })),
    },
  }),
);
