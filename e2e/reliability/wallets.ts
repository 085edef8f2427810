import { type DevAccount, type Devchain, testUsdcAbi } from "@robo402/devchain";
import { createWalletClient, http, publicActions } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

/**
 * `count` fresh wallets, each minted `amount` of the devchain's test USDC by its owner (account #0).
 * Payers need no ETH: x402's EIP-3009 transfers are submitted (and their gas paid) by the facilitator.
 */
export async function fundedWallets(chain: Devchain, count: number, amount: bigint): Promise<DevAccount[]> {
  const owner = chain.accounts[0];
  if (!owner) throw new Error("the devchain has no account #0 to mint from");
  const minter = createWalletClient({
    account: privateKeyToAccount(owner.privateKey),
    chain: foundry,
    transport: http(chain.rpcUrl),
    pollingInterval: 50,
  }).extend(publicActions);
  const wallets = Array.from({ length: count }, () => {
    const privateKey = generatePrivateKey();
    return { privateKey, address: privateKeyToAccount(privateKey).address };
  });
  // One after the other: anvil mines each on arrival, and parallel sends would race for the nonce.
  let last: `0x${string}` | undefined;
  for (const wallet of wallets) {
    last = await minter.writeContract({
      address: chain.token.address,
      abi: testUsdcAbi,
      functionName: "mint",
      args: [wallet.address, amount],
    });
  }
  if (last) await minter.waitForTransactionReceipt({ hash: last });
  return wallets;
}
