import { verifyMessage } from "viem";
import { createSiweMessage, generateSiweNonce, parseSiweMessage, validateSiweMessage } from "viem/siwe";
import type { Kv } from "../kv/kv.ts";
import { Refusal } from "../refusal.ts";
import type { SignInOrigins } from "./origins.ts";

export interface WalletProofOptions {
  /** The chain id the SIWE message names (EIP-4361 requires one). */
  readonly chainId: number;
  /** The origins messages must be bound to, from configuration: never the request's Host. */
  readonly origins: SignInOrigins;
}

export interface WalletChallenge {
  readonly nonce: string;
  readonly message: string;
}

// A nonce is kept (and marked used) for as long as its message is valid, so a replay says "already used".
const NONCE_TTL_MS = 5 * 60_000;
const issuedKey = (nonce: string) => `auth:siwe:nonce:${nonce}`;
const usedKey = (nonce: string) => `auth:siwe:used:${nonce}`;

const refused = (reason: string) => new Refusal("malformed", `Wallet link refused: ${reason}`);

/**
 * Sign-In with Ethereum (EIP-4361) as proof that an account's owner holds a wallet: the server hands out
 * a nonce bound to the account, the wallet signs a message carrying it, and the nonce works once.
 */
export class WalletProof {
  constructor(
    private readonly kv: Kv,
    private readonly options: WalletProofOptions,
  ) {}

  /** A fresh nonce for `account` and the message `address` should sign. */
  async challenge(account: { id: string; email: string }, address: `0x${string}`): Promise<WalletChallenge> {
    const origin = this.options.origins.primary;
    const nonce = generateSiweNonce();
    const issuedAt = new Date();
    await this.kv.set(issuedKey(nonce), account.id, NONCE_TTL_MS);
    const message = createSiweMessage({
      address,
      chainId: this.options.chainId,
      domain: origin.host,
      uri: origin.origin,
      version: "1",
      nonce,
      issuedAt,
      expirationTime: new Date(issuedAt.getTime() + NONCE_TTL_MS),
      statement: `Link this wallet to the robo402 account ${account.email}.`,
    });
    return { nonce, message };
  }

  /** The lower-case address that signed `message` for `accountId`; a 400 saying why otherwise. */
  async verify(accountId: string, message: string, signature: `0x${string}`) {
    const fields = parseSiweMessage(message);
    const { address, nonce, domain, uri } = fields;
    if (!address || !nonce || !domain || !uri || fields.chainId === undefined) {
      throw refused("the message is not an EIP-4361 (Sign-In with Ethereum) message.");
    }
    const issuedTo = await this.kv.get(issuedKey(nonce));
    if (issuedTo === null) {
      throw refused("the nonce is unknown or expired; request a new one from /api/auth/wallet/nonce.");
    }
    if (issuedTo !== accountId) throw refused("the nonce was issued to another account.");
    const origin = this.options.origins.byHost(domain);
    if (!origin) throw refused(`the message is for '${domain}', not ${this.options.origins.describe()}.`);
    if (safeOrigin(uri) !== origin.origin) {
      throw refused(`the message's URI '${uri}' is not on ${origin.origin}.`);
    }
    if (!validateSiweMessage({ message: fields, domain: origin.host, nonce })) {
      throw refused("the message has expired, is not yet valid, or is malformed.");
    }
    if (!(await signedBy(address, message, signature))) {
      throw refused(`the signature was not made by ${address}.`);
    }
    if (!(await this.kv.claim(usedKey(nonce), NONCE_TTL_MS))) {
      throw refused("the nonce was already used; request a new one.");
    }
    return address.toLowerCase();
  }
}

function safeOrigin(uri: string): string | undefined {
  return URL.canParse(uri) ? new URL(uri).origin : undefined;
}

// An EOA's personal_sign; a signature that cannot be decoded at all is simply not the wallet's.
async function signedBy(address: `0x${string}`, message: string, signature: `0x${string}`) {
  try {
    return await verifyMessage({ address, message, signature });
  } catch {
    return false;
  }
}
