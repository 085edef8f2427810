import type { PaymentPayload } from "@x402/core/types";
import { createPublicClient, http, parseAbi } from "viem";
import { z } from "zod";
import type { Authorization } from "../types.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte address");
// The facilitator turns these into BigInts: anything but a decimal integer crashes its verification.
const uint256 = z.string().regex(/^\d{1,78}$/, "expected a decimal integer string");

// EIP-3009's `exact` payload, as @x402/evm's client signs it.
const Eip3009Payload = z.object({
  authorization: z.object({
    from: address,
    to: address,
    value: uint256,
    validAfter: uint256,
    validBefore: uint256,
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes of 0x-prefixed hex"),
  }),
  signature: z.string(),
});

/** Who signed an `exact` EVM payment and its one-time nonce; undefined when it is not one. */
export function authorizationOf(payload: PaymentPayload): Authorization | undefined {
  const parsed = Eip3009Payload.safeParse(payload.payload);
  if (!parsed.success) return undefined;
  return {
    payer: parsed.data.authorization.from.toLowerCase(),
    nonce: parsed.data.authorization.nonce.toLowerCase(),
    validBefore: new Date(Number(parsed.data.authorization.validBefore) * 1000),
  };
}

/** What keeps `payload` from being an `exact` EIP-3009 authorization; undefined when it is one. */
export function eip3009Problem(payload: PaymentPayload): string | undefined {
  const parsed = Eip3009Payload.safeParse(payload.payload);
  if (parsed.success) return undefined;
  return parsed.error.issues
    .map((issue) => `${["payload", ...issue.path].join(".")}: ${issue.message}`)
    .join("; ");
}

const eip3009 = parseAbi([
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
]);

/**
 * Whether the token has consumed this authorization: the chain's own answer to "did the settlement
 * that was under way when the server died go through?".
 */
export async function isAuthorizationUsed(
  rpcUrl: string,
  asset: string,
  auth: Pick<Authorization, "payer" | "nonce">,
): Promise<boolean> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  return client.readContract({
    address: asset as `0x${string}`,
    abi: eip3009,
    functionName: "authorizationState",
    args: [auth.payer as `0x${string}`, auth.nonce as `0x${string}`],
  });
}

/**
 * The transaction that consumed this authorization (EIP-3009's `AuthorizationUsed` event), so a
 * settlement a crash interrupted is recorded with its hash like any other; null if the node has no log.
 */
export async function authorizationTransaction(
  rpcUrl: string,
  asset: string,
  auth: Pick<Authorization, "payer" | "nonce">,
): Promise<string | null> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  const logs = await client.getContractEvents({
    address: asset as `0x${string}`,
    abi: eip3009,
    eventName: "AuthorizationUsed",
    args: { authorizer: auth.payer as `0x${string}`, nonce: auth.nonce as `0x${string}` },
    fromBlock: "earliest",
  });
  return logs[0]?.transactionHash ?? null;
}
