import { createWalletClient, type Hex, http, keccak256, parseSignature, publicActions, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevAccount, type Devchain, startDevchain, testUsdcAbi } from "../src/index.ts";

let devchain: Devchain;
beforeAll(async () => {
  devchain = await startDevchain();
});
afterAll(async () => {
  await devchain?.close();
});

const account = (index: number): DevAccount => devchain.accounts[index] ?? expect.unreachable();

/**
 * Acts on the test token as one of anvil's unlocked accounts. Writes are simulated first:
 * anvil mines a reverting eth_sendTransaction instead of refusing it, and the simulation
 * is what surfaces the revert reason.
 */
function tokenAs(index: number) {
  const client = createWalletClient({
    account: account(index).address,
    chain: foundry,
    transport: http(devchain.rpcUrl),
  }).extend(publicActions);
  const address = devchain.token.address;
  const abi = testUsdcAbi;
  const send = async (simulation: Promise<{ request: Parameters<typeof client.writeContract>[0] }>) => {
    const receipt = await client.waitForTransactionReceipt({
      hash: await client.writeContract((await simulation).request),
    });
    expect(receipt.status).toBe("success");
  };
  return {
    transferWithAuthorization: (args: AuthorizationArgs, signature: Hex) =>
      send(
        client.simulateContract({
          address,
          abi,
          functionName: "transferWithAuthorization",
          args: [...args, signature],
        }),
      ),
    transferWithAuthorizationVrs: (args: AuthorizationArgs, signature: Hex) => {
      const { v, r, s } = parseSignature(signature);
      const vrs = [Number(v), r, s] as const;
      return send(
        client.simulateContract({
          address,
          abi,
          functionName: "transferWithAuthorization",
          args: [...args, ...vrs],
        }),
      );
    },
    receiveWithAuthorization: (args: AuthorizationArgs, signature: Hex) =>
      send(
        client.simulateContract({
          address,
          abi,
          functionName: "receiveWithAuthorization",
          args: [...args, signature],
        }),
      ),
    cancelAuthorization: (authorizer: Hex, nonce: Hex, signature: Hex) =>
      send(
        client.simulateContract({
          address,
          abi,
          functionName: "cancelAuthorization",
          args: [authorizer, nonce, signature],
        }),
      ),
    mint: (to: Hex, amount: bigint) =>
      send(client.simulateContract({ address, abi, functionName: "mint", args: [to, amount] })),
    authorizationState: (authorizer: Hex, nonce: Hex) =>
      client.readContract({ address, abi, functionName: "authorizationState", args: [authorizer, nonce] }),
    typehash: (
      functionName:
        | "TRANSFER_WITH_AUTHORIZATION_TYPEHASH"
        | "RECEIVE_WITH_AUTHORIZATION_TYPEHASH"
        | "CANCEL_AUTHORIZATION_TYPEHASH",
    ) => client.readContract({ address, abi, functionName }),
  };
}

type AuthorizationArgs = readonly [Hex, Hex, bigint, bigint, bigint, Hex];

let nonces = 0;
const domain = () => ({
  name: "USD Coin",
  version: "2",
  chainId: 31337,
  verifyingContract: devchain.token.address,
});
const authorizationFields = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;

/** `from` signs an authorization to move `value` to `to`, valid for an hour unless `validBefore` says otherwise. */
async function authorize(
  kind: "TransferWithAuthorization" | "ReceiveWithAuthorization",
  { from, to, value, validBefore }: { from: number; to: number; value: bigint; validBefore?: bigint },
) {
  const message = {
    from: account(from).address,
    to: account(to).address,
    value,
    validAfter: 0n,
    validBefore: validBefore ?? BigInt(Math.floor(Date.now() / 1000) + 3600),
    nonce: toHex(++nonces, { size: 32 }),
  };
  const signature = await privateKeyToAccount(account(from).privateKey).signTypedData({
    domain: domain(),
    types: { [kind]: authorizationFields },
    primaryType: kind,
    message,
  });
  const { nonce } = message;
  const args: AuthorizationArgs = [
    message.from,
    message.to,
    value,
    message.validAfter,
    message.validBefore,
    nonce,
  ];
  return { args, nonce, signature };
}

describe("TestUSDC", () => {
  it("uses Circle's FiatToken v2 EIP-3009 typehashes", async () => {
    const token = tokenAs(0);
    expect(await token.typehash("TRANSFER_WITH_AUTHORIZATION_TYPEHASH")).toBe(
      "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267",
    );
    expect(await token.typehash("RECEIVE_WITH_AUTHORIZATION_TYPEHASH")).toBe(
      "0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8",
    );
    expect(await token.typehash("CANCEL_AUTHORIZATION_TYPEHASH")).toBe(
      keccak256(toHex("CancelAuthorization(address authorizer,bytes32 nonce)")),
    );
  });

  it("lets anyone relay a transfer authorization exactly once, signed as bytes or as v,r,s", async () => {
    const relayer = tokenAs(5);
    const before = await devchain.balanceOf(account(4).address);
    const asBytes = await authorize("TransferWithAuthorization", { from: 3, to: 4, value: 1_000n });
    const asVrs = await authorize("TransferWithAuthorization", { from: 3, to: 4, value: 2_000n });

    await relayer.transferWithAuthorization(asBytes.args, asBytes.signature);
    await relayer.transferWithAuthorizationVrs(asVrs.args, asVrs.signature);

    expect(await devchain.balanceOf(account(4).address)).toBe(before + 3_000n);
    expect(await relayer.authorizationState(account(3).address, asBytes.nonce)).toBe(true);
    await expect(relayer.transferWithAuthorization(asBytes.args, asBytes.signature)).rejects.toThrow(
      /authorization is used or canceled/,
    );
  });

  it("refuses expired authorizations and signatures by anyone but the payer", async () => {
    const relayer = tokenAs(5);
    const expired = await authorize("TransferWithAuthorization", {
      from: 3,
      to: 4,
      value: 1n,
      validBefore: 1n,
    });
    await expect(relayer.transferWithAuthorization(expired.args, expired.signature)).rejects.toThrow(
      /authorization is expired/,
    );
    const forged = await authorize("TransferWithAuthorization", { from: 6, to: 4, value: 1n });
    const [, ...rest] = forged.args;
    const claimsToBeFrom3: AuthorizationArgs = [account(3).address, ...rest];
    await expect(relayer.transferWithAuthorization(claimsToBeFrom3, forged.signature)).rejects.toThrow(
      /invalid signature/,
    );
  });

  it("accepts receiveWithAuthorization only from the payee", async () => {
    const receipt = await authorize("ReceiveWithAuthorization", { from: 3, to: 4, value: 500n });
    await expect(tokenAs(5).receiveWithAuthorization(receipt.args, receipt.signature)).rejects.toThrow(
      /caller must be the payee/,
    );
    const before = await devchain.balanceOf(account(4).address);
    await tokenAs(4).receiveWithAuthorization(receipt.args, receipt.signature);
    expect(await devchain.balanceOf(account(4).address)).toBe(before + 500n);
  });

  it("lets the payer cancel an authorization before it is used", async () => {
    const transfer = await authorize("TransferWithAuthorization", { from: 3, to: 4, value: 1n });
    const cancellation = await privateKeyToAccount(account(3).privateKey).signTypedData({
      domain: domain(),
      types: {
        CancelAuthorization: [
          { name: "authorizer", type: "address" },
          { name: "nonce", type: "bytes32" },
        ],
      },
      primaryType: "CancelAuthorization",
      message: { authorizer: account(3).address, nonce: transfer.nonce },
    });
    await tokenAs(5).cancelAuthorization(account(3).address, transfer.nonce, cancellation);
    await expect(tokenAs(5).transferWithAuthorization(transfer.args, transfer.signature)).rejects.toThrow(
      /authorization is used or canceled/,
    );
  });

  it("mints for its owner (account #0) only", async () => {
    const before = await devchain.balanceOf(account(7).address);
    await tokenAs(0).mint(account(7).address, 42n);
    expect(await devchain.balanceOf(account(7).address)).toBe(before + 42n);
    await expect(tokenAs(7).mint(account(7).address, 42n)).rejects.toThrow(/OwnableUnauthorizedAccount/);
  });
});
