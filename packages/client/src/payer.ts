import { randomBytes } from "node:crypto";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { createSIWxPayload, encodeSIWxHeader } from "@x402/extensions/sign-in-with-x";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";

export interface PayerOptions {
  readonly privateKey: `0x${string}`;
  /** The most one payment may cost, in the asset's base units (USDC: 1_000_000 = $1). */
  readonly maxAmount: bigint;
  readonly fetch?: typeof fetch;
}

/**
 * A fetch that answers x402's 402 by paying from an EVM key. The asset to pay in comes from the
 * server's own PAYMENT-REQUIRED (x402Client refuses unknown assets otherwise, and a local test token is
 * one), but never more than `maxAmount` per payment: a server cannot make this client overspend.
 */
export function payingFetch(options: PayerOptions): typeof fetch {
  const base = options.fetch ?? fetch;
  const signer = privateKeyToAccount(options.privateKey);
  return async (input, init) => {
    const request = new Request(input, init);
    const probe = await base(request.clone());
    const required = probe.headers.get("payment-required");
    if (probe.status !== 402 || !required) return probe;
    const offers = decodePaymentRequiredHeader(required).accepts.filter(
      (offer) => offer.network.startsWith("eip155:") && BigInt(offer.amount) <= options.maxAmount,
    );
    if (offers.length === 0) return probe;
    const client = x402Client.fromConfig({
      schemes: [{ network: "eip155:*", client: new ExactEvmScheme(signer) }],
      spendControls: {
        allowedAssets: offers.map((offer) => ({
          network: offer.network,
          asset: offer.asset,
          maxAmountPerPayment: options.maxAmount.toString(),
        })),
      },
    });
    return wrapFetchWithPayment(base, client)(request);
  };
}

export const payerAddress = (privateKey: `0x${string}`) => privateKeyToAccount(privateKey).address;

/**
 * A SIGN-IN-WITH-X header (x402's CAIP-122 extension) for one request to `url`: the key's owner proves
 * it is the wallet that paid, with a fresh nonce so the header cannot be replayed.
 */
export async function signIn(privateKey: `0x${string}`, url: string, chainId: string): Promise<string> {
  const target = new URL(url);
  const payload = await createSIWxPayload(
    {
      domain: target.host,
      uri: target.origin,
      statement: "Drive the robot I paid for",
      version: "1",
      chainId,
      type: "eip191",
      nonce: randomBytes(16).toString("hex"),
      issuedAt: new Date().toISOString(),
    },
    privateKeyToAccount(privateKey),
    target,
  );
  return encodeSIWxHeader(payload);
}
