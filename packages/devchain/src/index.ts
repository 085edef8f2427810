import { createPublicClient, createTestClient, http } from "viem";
import { foundry } from "viem/chains";
import { DEV_ACCOUNTS, type DevAccount, devAccount } from "./accounts.ts";
import { CHAIN_ID, startAnvil } from "./anvil.ts";
import { loadArtifacts } from "./compile.ts";
import { NETWORK, startFacilitator } from "./facilitator.ts";
import { startSolanaRpc } from "./solana-rpc.ts";
import {
  LocalSolana,
  SOLANA_DEVNET,
  SOLANA_FUNDS_PER_ACCOUNT,
  SOLANA_USDC_DECIMALS,
  type SolanaDevAccount,
} from "./solana-runtime.ts";
import { deployFundedToken, deployTestUsdc, TEST_USDC, testUsdcAbi } from "./token.ts";

export type { DevAccount, SolanaDevAccount };
export { DEV_ACCOUNTS, LocalSolana, SOLANA_DEVNET, SOLANA_FUNDS_PER_ACCOUNT, TEST_USDC, testUsdcAbi };

/** The devchain's Solana side: litesvm behind a JSON-RPC, presented under the devnet id. */
export interface DevSolana {
  rpcUrl: string;
  network: typeof SOLANA_DEVNET;
  /** The test USDC mint (SPL Token, 6 decimals). */
  mint: string;
  decimals: typeof SOLANA_USDC_DECIMALS;
  /** Ten keypairs with SOL and 10,000 test USDC each; index 9 is the facilitator's fee payer. */
  accounts: SolanaDevAccount[];
  /** The runtime itself, for tests: balances, a second mint, held-back confirmations. */
  runtime: LocalSolana;
}

export interface Devchain {
  rpcUrl: string;
  chainId: 31337;
  network: typeof NETWORK;
  token: { address: `0x${string}`; name: "USD Coin"; version: "2"; decimals: 6 };
  facilitatorUrl: string;
  /** The ten funded accounts; index 9 is the facilitator's signer, which pays the settlement gas. */
  accounts: DevAccount[];
  /** Test USDC balance in base units (6 decimals). */
  balanceOf(address: `0x${string}`): Promise<bigint>;
  solana: DevSolana;
  /** Deploys another TestUSDC at a fresh address, funded like the first: a second token for tests. */
  deployToken(): Promise<`0x${string}`>;
  close(): Promise<void>;
}

export interface DevchainOptions {
  facilitatorPort?: number;
  anvilPort?: number;
  solanaRpcPort?: number;
}

const FACILITATOR_ACCOUNT = 9;
// Where every chain keeps Multicall3; x402's facilitator looks for it there.
const MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11";

/**
 * Starts anvil with TestUSDC deployed at its deterministic address, 10,000 USDC on each of the
 * ten default accounts, and an x402 facilitator for it. Ports default to free ones.
 */
export async function startDevchain(options: DevchainOptions = {}): Promise<Devchain> {
  const [started, compiled, solana] = await Promise.allSettled([
    startAnvil({ port: options.anvilPort }),
    loadArtifacts(),
    LocalSolana.start(),
  ]);
  if (started.status === "rejected") throw started.reason;
  const anvil = started.value;
  if (solana.status === "rejected") {
    await anvil.close();
    throw solana.reason;
  }
  const runtime = solana.value;
  let solanaRpc: Awaited<ReturnType<typeof startSolanaRpc>> | undefined;
  const accounts = DEV_ACCOUNTS.map((account) => ({ ...account }));

  try {
    if (compiled.status === "rejected") throw compiled.reason;
    const holders = accounts.map((account) => account.address);
    await deployTestUsdc(anvil.rpcUrl, compiled.value.testUsdc, devAccount(0).address, holders);
    await createTestClient({ chain: foundry, mode: "anvil", transport: http(anvil.rpcUrl) }).setCode({
      address: MULTICALL3_ADDRESS,
      bytecode: compiled.value.multicall3Code,
    });
    const reader = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) });
    solanaRpc = await startSolanaRpc(runtime, options.solanaRpcPort);
    const feePayer = runtime.accounts[FACILITATOR_ACCOUNT];
    if (!feePayer) throw new Error("no Solana fee payer");
    const facilitator = await startFacilitator({
      rpcUrl: anvil.rpcUrl,
      signer: devAccount(FACILITATOR_ACCOUNT).address,
      solana: { rpcUrl: solanaRpc.url, network: SOLANA_DEVNET, feePayer: feePayer.signer },
      port: options.facilitatorPort,
    });
    const rpc = solanaRpc;
    let closing: Promise<void> | undefined;

    return {
      rpcUrl: anvil.rpcUrl,
      chainId: CHAIN_ID,
      network: NETWORK,
      token: { ...TEST_USDC },
      facilitatorUrl: facilitator.url,
      accounts,
      solana: {
        rpcUrl: rpc.url,
        network: SOLANA_DEVNET,
        mint: runtime.mint,
        decimals: SOLANA_USDC_DECIMALS,
        accounts: runtime.accounts,
        runtime,
      },
      balanceOf: (address) =>
        reader.readContract({
          address: TEST_USDC.address,
          abi: testUsdcAbi,
          functionName: "balanceOf",
          args: [address],
        }),
      deployToken: () =>
        deployFundedToken(anvil.rpcUrl, compiled.value.testUsdc, devAccount(0).address, holders),
      close: () => {
        closing ??= facilitator
          .close()
          .finally(() => rpc.close())
          .finally(() => anvil.close());
        return closing;
      },
    };
  } catch (error) {
    await solanaRpc?.close();
    await anvil.close();
    throw error;
  }
}
