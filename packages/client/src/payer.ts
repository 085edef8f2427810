import { randomBytes } from "node:crypto";
import {
  createKeyPairSignerFromBytes,
  getBase58Encoder,
  isSolanaError,
  type KeyPairSigner,
  SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR,
} from "@solana/kit";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { SchemeNetworkClient } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { appendPaymentIdentifierToExtensions, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";
import { createSIWxPayload, encodeSIWxHeader } from "@x402/extensions/sign-in-with-x";
import { x402Client } from "@x402/fetch";
import {
  DEVNET_RPC_URL,
  MAINNET_RPC_URL,
  SOLANA_DEVNET_CAIP2,
  SOLANA_MAINNET_CAIP2,
  SOLANA_TESTNET_CAIP2,
  TESTNET_RPC_URL,
} from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { privateKeyToAccount } from "viem/accounts";

/** A Solana payer: its keypair and the RPC its transfers are built against. */
export interface SolanaPayer {
  /** The 64-byte keypair (seed then public key): base58, as wallets export it, or the bytes of a keypair file. */
  readonly secretKey: string | Uint8Array;
  /** The cluster's JSON-RPC (default: the public one for the network the server names). */
  readonly rpcUrl?: string;
}

export interface PayerOptions {
  /** Pays on EVM networks. */
  readonly privateKey?: `0x${string}`;
  /** Pays on Solana. */
  readonly solana?: SolanaPayer;
  /** The most one payment may cost, in the asset's base units (USDC: 1_000_000 = $1). */
  readonly maxAmount: bigint;
  readonly fetch?: typeof fetch;
}

export interface PayOptions {
  /**
   * x402's payment-identifier for this purchase: a retry under the same id (after a lost answer) gets
   * the purchase back instead of paying twice. Sent only where the server declares the extension.
   */
  readonly paymentId?: string;
}

/**
 * The Solana RPC a payment is built against (for the mint and a recent blockhash) did not answer, or
 * answered with an HTTP error: no transfer was signed or sent, so nothing was paid. The platform itself
 * answered (it asked for the payment); this is about the Solana RPC alone.
 */
export class SolanaRpcError extends Error {
  constructor(
    readonly rpcUrl: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`the Solana RPC at ${rpcUrl} ${problem}, so nothing was paid`, options);
    this.name = "SolanaRpcError";
  }
}

/** Where @x402/svm builds a payment when no RPC is given: the cluster's public RPC. */
const PUBLIC_RPC: Record<string, string> = {
  [SOLANA_DEVNET_CAIP2]: DEVNET_RPC_URL,
  [SOLANA_TESTNET_CAIP2]: TESTNET_RPC_URL,
  [SOLANA_MAINNET_CAIP2]: MAINNET_RPC_URL,
};

/** A failure to reach the RPC (refused, unknown host, timed out, HTTP error) as a SolanaRpcError; else undefined. */
function unreachableRpc(error: unknown, rpcUrl: string): SolanaRpcError | undefined {
  if (isSolanaError(error, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR))
    return new SolanaRpcError(rpcUrl, `answered HTTP ${error.context.statusCode}`, { cause: error });
  // Node's fetch fails with this TypeError when no HTTP answer came; the cause says why.
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const why = cause?.code ?? cause?.message;
    return new SolanaRpcError(rpcUrl, `did not answer${why ? ` (${why})` : ""}`, { cause: error });
  }
  return undefined;
}

/** A keypair signer from a Solana secret key (base58 or bytes). */
export function solanaSigner(secretKey: string | Uint8Array): Promise<KeyPairSigner> {
  const bytes = typeof secretKey === "string" ? getBase58Encoder().encode(secretKey.trim()) : secretKey;
  if (bytes.length !== 64) throw new Error("a Solana secret key is 64 bytes (seed then public key)");
  return createKeyPairSignerFromBytes(bytes);
}

/**
 * A fetch that answers x402's 402 by paying from an EVM key or a Solana keypair, on the first network
 * the server accepts that it holds a key for. The asset to pay in comes from the
 * server's own PAYMENT-REQUIRED (x402Client refuses unknown assets otherwise, and a local test token is
 * one), but never more than `maxAmount` per payment: a server cannot make this client overspend.
 */
export function payingFetch(options: PayerOptions) {
  const base = options.fetch ?? fetch;
  const schemes: Array<{ network: `${string}:${string}`; client: () => Promise<SchemeNetworkClient> }> = [];
  if (options.privateKey) {
    const account = privateKeyToAccount(options.privateKey);
    schemes.push({ network: "eip155:*", client: async () => new ExactEvmScheme(account) });
  }
  const { solana } = options;
  if (solana) {
    let signer: Promise<KeyPairSigner> | undefined;
    schemes.push({
      network: "solana:*",
      client: async () => {
        signer ??= solanaSigner(solana.secretKey);
        return new ExactSvmScheme(await signer, { rpcUrl: solana.rpcUrl });
      },
    });
  }
  const payable = (network: string) =>
    schemes.some((scheme) => network.startsWith(scheme.network.replace("*", "")));
  return async (input: RequestInfo | URL, init?: RequestInit, pay: PayOptions = {}): Promise<Response> => {
    const request = new Request(input, init);
    const probe = await base(request.clone());
    const header = probe.headers.get("payment-required");
    if (probe.status !== 402 || !header) return probe;
    const required = decodePaymentRequiredHeader(header);
    const offers = required.accepts.filter(
      (offer) => payable(offer.network) && BigInt(offer.amount) <= options.maxAmount,
    );
    if (offers.length === 0) return probe;
    const client = x402Client.fromConfig({
      schemes: await Promise.all(
        schemes.map(async (scheme) => ({ network: scheme.network, client: await scheme.client() })),
      ),
      spendControls: {
        allowedAssets: offers.map((offer) => ({
          network: offer.network,
          asset: offer.asset,
          maxAmountPerPayment: options.maxAmount.toString(),
        })),
      },
    });
    if (pay.paymentId && required.extensions)
      appendPaymentIdentifierToExtensions(required.extensions, pay.paymentId);
    let failedOn: string | undefined;
    client.onPaymentCreationFailure(async ({ selectedRequirements }) => {
      failedOn = selectedRequirements.network;
    });
    const payment = await client
      .createPaymentPayload({ ...required, accepts: offers })
      .catch((error: unknown) => {
        const rpcUrl = failedOn?.startsWith("solana:") ? (solana?.rpcUrl ?? PUBLIC_RPC[failedOn]) : undefined;
        throw (rpcUrl && unreachableRpc(error, rpcUrl)) || error;
      });
    const paid = new Request(request);
    paid.headers.set("payment-signature", encodePaymentSignatureHeader(payment));
    const named = Boolean(pay.paymentId && required.extensions?.[PAYMENT_IDENTIFIER]);
    // With a payment identifier, the same signed payment may be sent again: the server answers with
    // what it already granted. Without one, a resend would be refused as a replay.
    return base(paid.clone()).catch((error: unknown) => {
      if (!named || !(error instanceof TypeError)) throw error;
      return base(paid);
    });
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
