import type { PaymentPayload } from "@x402/core/types";
import { createPublicClient, http, parseAbi } from "viem";
import { z } from "zod";

// EIP-3009's `exact` payload, as @x402/evm's client signs it.
const Eip3009Payload = z.object({
  authorization: z.object({
    from: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    to: z.string(),
    value: z.string(),
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  }),
  signature: z.string(),
});

export interface Authorization {
  readonly payer: string;
  readonly nonce: string;
}

/** Who signed an `exact` EVM payment and its one-time nonce; undefined when it is not one. */
export function authorizationOf(payload: PaymentPayload): Authorization | undefined {
  const parsed = Eip3009Payload.safeParse(payload.payload);
  if (!parsed.success) return undefined;
  return {
    payer: parsed.data.authorization.from.toLowerCase(),
    nonce: parsed.data.authorization.nonce.toLowerCase(),
  };
}

const eip3009 = parseAbi([
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
]);

/**
 * Whether the token has consumed this authorization: the chain's own answer to "did the settlement
 * that was under way when the server died go through?".
 */
export async function isAuthorizationUsed(
  rpcUrl: string,
  asset: string,
  auth: Authorization,
): Promise<boolean> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  return client.readContract({
    address: asset as `0x${string}`,
    abi: eip3009,
    functionName: "authorizationState",
    args: [auth.payer as `0x${string}`, auth.nonce as `0x${string}`],
  });
}
