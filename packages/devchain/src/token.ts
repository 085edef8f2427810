import { parseAbi } from "viem";
import { devchainClient } from "./client.ts";
import type { Artifact } from "./compile.ts";

export const TEST_USDC = {
  /** Where anvil account #0's first deployment lands, so the same on every fresh devchain. */
  address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  name: "USD Coin",
  version: "2",
  decimals: 6,
} as const;

export const FUNDS_PER_ACCOUNT = 10_000n * 10n ** BigInt(TEST_USDC.decimals);

/** TestUSDC's ERC-20, EIP-3009 and minting surface, typed for viem (a test keeps it in step with the contract). */
export const testUsdcAbi = parseAbi([
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function decimals() pure returns (uint8)",
  "function version() pure returns (string)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function transferFrom(address from, address to, uint256 value) returns (bool)",
  "function mint(address to, uint256 amount)",
  "function DOMAIN_SEPARATOR() view returns (bytes32)",
  "function TRANSFER_WITH_AUTHORIZATION_TYPEHASH() view returns (bytes32)",
  "function RECEIVE_WITH_AUTHORIZATION_TYPEHASH() view returns (bytes32)",
  "function CANCEL_AUTHORIZATION_TYPEHASH() view returns (bytes32)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC20InvalidSender(address sender)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidApprover(address approver)",
  "error ERC20InvalidSpender(address spender)",
  "error OwnableUnauthorizedAccount(address account)",
]);

/** Deploys TestUSDC from `owner` at TEST_USDC.address and mints FUNDS_PER_ACCOUNT to each of `holders`. */
export async function deployTestUsdc(
  rpcUrl: string,
  artifact: Artifact,
  owner: `0x${string}`,
  holders: readonly `0x${string}`[],
): Promise<void> {
  const address = await deployFundedToken(rpcUrl, artifact, owner, holders);
  if (address.toLowerCase() !== TEST_USDC.address.toLowerCase()) {
    throw new Error(`TestUSDC landed at ${address}, not ${TEST_USDC.address}: was the chain fresh?`);
  }
}

/**
 * Deploys a TestUSDC wherever `owner`'s next deployment lands, mints FUNDS_PER_ACCOUNT to each of
 * `holders`, and returns its address.
 */
export async function deployFundedToken(
  rpcUrl: string,
  artifact: Artifact,
  owner: `0x${string}`,
  holders: readonly `0x${string}`[],
): Promise<`0x${string}`> {
  const client = devchainClient(rpcUrl, owner);
  const deployment = await client.waitForTransactionReceipt({
    hash: await client.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode }),
  });
  const address = deployment.contractAddress;
  if (!address) throw new Error("deploying TestUSDC created no contract");
  const mints: `0x${string}`[] = [];
  for (const holder of holders) {
    mints.push(
      await client.writeContract({
        address,
        abi: testUsdcAbi,
        functionName: "mint",
        args: [holder, FUNDS_PER_ACCOUNT],
      }),
    );
  }
  const receipts = await Promise.all(mints.map((hash) => client.waitForTransactionReceipt({ hash })));
  if (receipts.some((receipt) => receipt.status !== "success")) throw new Error("minting TestUSDC reverted");
  return address;
}
