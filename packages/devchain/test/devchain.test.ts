import {
  type AbiFunction,
  createPublicClient,
  createWalletClient,
  hashDomain,
  http,
  type PublicClient,
  toFunctionSignature,
} from "viem";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArtifacts } from "../src/compile.ts";
import { type Devchain, startDevchain, testUsdcAbi } from "../src/index.ts";

let devchain: Devchain;
let chain: PublicClient;
beforeAll(async () => {
  devchain = await startDevchain();
  chain = createPublicClient({ chain: foundry, transport: http(devchain.rpcUrl) });
});
afterAll(async () => {
  await devchain?.close();
});

const read = <const F extends "name" | "symbol" | "version" | "decimals" | "DOMAIN_SEPARATOR">(
  functionName: F,
) => chain.readContract({ address: devchain.token.address, abi: testUsdcAbi, functionName });

describe("startDevchain", () => {
  it("runs anvil as chain 31337 on loopback", async () => {
    expect(devchain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(devchain.chainId).toBe(31337);
    expect(devchain.network).toBe("eip155:31337");
    expect(await chain.getChainId()).toBe(31337);
  });

  it("lists the ten accounts anvil unlocks, with their keys", async () => {
    const unlocked = await createWalletClient({
      chain: foundry,
      transport: http(devchain.rpcUrl),
    }).getAddresses();
    expect(devchain.accounts.map((account) => account.address.toLowerCase())).toEqual(
      unlocked.map((address) => address.toLowerCase()),
    );
    expect(devchain.accounts[0]?.privateKey).toBe(
      "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    );
  });

  it("deploys the test USDC at the deterministic address", async () => {
    expect(devchain.token).toEqual({
      address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      name: "USD Coin",
      version: "2",
      decimals: 6,
    });
    expect(await chain.getCode({ address: devchain.token.address })).toMatch(/^0x[0-9a-f]{100,}$/);
  });

  it("gives the token USDC's name, symbol, EIP-712 version and decimals", async () => {
    expect(await read("name")).toBe("USD Coin");
    expect(await read("symbol")).toBe("USDC");
    expect(await read("version")).toBe("2");
    expect(await read("decimals")).toBe(6);
    expect(await read("DOMAIN_SEPARATOR")).toBe(
      hashDomain({
        domain: {
          name: "USD Coin",
          version: "2",
          chainId: 31337n,
          verifyingContract: devchain.token.address,
        },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
        },
      }),
    );
  });

  it("funds each default account with 10,000 USDC", async () => {
    for (const { address } of devchain.accounts) {
      expect(await devchain.balanceOf(address)).toBe(10_000_000_000n);
    }
  });

  it("serves GET /supported with the exact scheme on eip155:31337", async () => {
    const response = await fetch(`${devchain.facilitatorUrl}/supported`);
    expect(response.status).toBe(200);
    const supported = (await response.json()) as {
      kinds: { x402Version: number; scheme: string; network: string }[];
      signers: Record<string, string[]>;
    };
    expect(supported.kinds).toContainEqual({ x402Version: 2, scheme: "exact", network: "eip155:31337" });
    expect(supported.signers["eip155:*"]).toEqual([devchain.accounts[9]?.address]);
  });

  it("answers malformed facilitator requests with 400 and unknown routes with 404", async () => {
    const verify = await fetch(`${devchain.facilitatorUrl}/verify`, { method: "POST", body: "{}" });
    expect(verify.status).toBe(400);
    expect(await fetch(`${devchain.facilitatorUrl}/nowhere`).then((response) => response.status)).toBe(404);
  });
});

describe("testUsdcAbi", () => {
  it("matches the compiled contract's functions, events and errors", async () => {
    type Item = {
      type: string;
      name?: string;
      stateMutability?: string;
      outputs?: readonly { type: string }[];
    };
    const describeItem = (item: Item) => ({
      type: item.type,
      signature: toFunctionSignature(item as AbiFunction),
      stateMutability: item.stateMutability,
      outputs: item.outputs?.map((output) => output.type),
    });
    const compiled = ((await loadArtifacts()).testUsdc.abi as readonly Item[]).map(describeItem);
    for (const item of testUsdcAbi as readonly Item[]) expect(compiled).toContainEqual(describeItem(item));
  });
});
