import {
  type Address,
  type EncodedAccount,
  getBase58Decoder,
  isSome,
  type ReadonlyUint8Array,
  unwrapOption,
} from "@solana/kit";
import { AccountState, getMintDecoder, getTokenDecoder, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { formatUnits } from "viem";

/**
 * How the local Solana RPC writes accounts, as a validator's RPC does: raw bytes in base58 or base64,
 * or `jsonParsed` (SPL token accounts and mints spelled out, anything else in base64), and the
 * token amounts of the balance calls.
 */

/** A JSON-RPC error a validator would answer with (`data` as its RPC puts it, e.g. a failed preflight's logs). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export const TOKEN_2022_PROGRAM_ADDRESS = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb" as Address;
const TOKEN_PROGRAMS: readonly string[] = [TOKEN_PROGRAM_ADDRESS, TOKEN_2022_PROGRAM_ADDRESS];
const TOKEN_ACCOUNT_SIZE = 165;
const MINT_SIZE = 82;
// Token-2022 accounts with extensions carry their kind in the byte after the base layout.
const ACCOUNT_TYPE_MINT = 1;
const ACCOUNT_TYPE_ACCOUNT = 2;
// A validator refuses base58 past this many bytes (it is slow to encode).
const MAX_BASE58_BYTES = 128;

export type AccountEncoding = "base58" | "base64" | "jsonParsed";

export interface AccountOptions {
  encoding?: unknown;
  dataSlice?: unknown;
}

/** A validator's default encoding is the legacy base58 string ("binary"). */
export function accountEncoding(options: AccountOptions | undefined): AccountEncoding | "binary" {
  const encoding = options?.encoding;
  if (encoding === undefined) return "binary";
  if (encoding === "base58" || encoding === "base64" || encoding === "jsonParsed") return encoding;
  throw new RpcError(
    -32602,
    `Invalid params: encoding ${String(encoding)} is not served here; use base64 or jsonParsed`,
  );
}

export const isTokenProgram = (program: string) => TOKEN_PROGRAMS.includes(program);

export function isTokenAccount(account: EncodedAccount): boolean {
  if (!isTokenProgram(account.programAddress)) return false;
  const { length } = account.data;
  return (
    length === TOKEN_ACCOUNT_SIZE ||
    (account.programAddress === TOKEN_2022_PROGRAM_ADDRESS &&
      length > TOKEN_ACCOUNT_SIZE &&
      account.data[TOKEN_ACCOUNT_SIZE] === ACCOUNT_TYPE_ACCOUNT)
  );
}

export function isMint(account: EncodedAccount): boolean {
  if (!isTokenProgram(account.programAddress)) return false;
  const { length } = account.data;
  return (
    length === MINT_SIZE ||
    (account.programAddress === TOKEN_2022_PROGRAM_ADDRESS &&
      length > TOKEN_ACCOUNT_SIZE &&
      account.data[TOKEN_ACCOUNT_SIZE] === ACCOUNT_TYPE_MINT)
  );
}

export const decodeToken = (account: EncodedAccount) => getTokenDecoder().decode(account.data);
export const decodeMint = (account: EncodedAccount) => getMintDecoder().decode(account.data);

/** A token amount as the RPC writes it: base units as a string, and for people (trailing zeros trimmed). */
export function tokenAmount(amount: bigint, decimals: number) {
  const uiAmountString = formatUnits(amount, decimals);
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

/**
 * One account in the asked encoding. `decimalsOf` reads a mint (a token account's amounts are written
 * in its mint's decimals; without the mint, jsonParsed falls back to base64 as a validator does).
 */
export function encodeAccount(
  account: EncodedAccount,
  encoding: AccountEncoding | "binary",
  decimalsOf: (mint: Address) => number | undefined,
  dataSlice?: unknown,
) {
  const parsed = encoding === "jsonParsed" ? parseAccount(account, decimalsOf) : undefined;
  return {
    data: parsed ?? encodeData(account.data, encoding === "jsonParsed" ? "base64" : encoding, dataSlice),
    executable: account.executable,
    lamports: account.lamports,
    owner: account.programAddress,
    rentEpoch: 0,
    space: account.data.length,
  };
}

function encodeData(data: ReadonlyUint8Array, encoding: "base58" | "base64" | "binary", dataSlice: unknown) {
  const bytes = slice(data, dataSlice);
  if (encoding === "base64") return [Buffer.from(bytes).toString("base64"), "base64"];
  if (bytes.length > MAX_BASE58_BYTES)
    throw new RpcError(
      -32600,
      `Encoded binary (base 58) data should be less than ${MAX_BASE58_BYTES} bytes, please use Base64 encoding.`,
    );
  const base58 = getBase58Decoder().decode(bytes);
  return encoding === "binary" ? base58 : [base58, "base58"];
}

function slice(data: ReadonlyUint8Array, dataSlice: unknown): ReadonlyUint8Array {
  if (dataSlice === undefined) return data;
  const { offset, length } = (dataSlice ?? {}) as { offset?: unknown; length?: unknown };
  if (!Number.isInteger(offset) || !Number.isInteger(length))
    throw new RpcError(-32602, "Invalid params: dataSlice needs an integer offset and length");
  return data.subarray(offset as number, (offset as number) + (length as number));
}

function parseAccount(account: EncodedAccount, decimalsOf: (mint: Address) => number | undefined) {
  const program = account.programAddress === TOKEN_PROGRAM_ADDRESS ? "spl-token" : "spl-token-2022";
  const space = account.data.length;
  if (isMint(account)) {
    const mint = decodeMint(account);
    return {
      program,
      parsed: {
        type: "mint",
        info: {
          decimals: mint.decimals,
          freezeAuthority: unwrapOption(mint.freezeAuthority),
          isInitialized: mint.isInitialized,
          mintAuthority: unwrapOption(mint.mintAuthority),
          supply: mint.supply.toString(),
        },
      },
      space,
    };
  }
  if (!isTokenAccount(account)) return undefined;
  const token = decodeToken(account);
  const decimals = decimalsOf(token.mint);
  if (decimals === undefined) return undefined;
  const state =
    token.state === AccountState.Initialized
      ? "initialized"
      : token.state === AccountState.Frozen
        ? "frozen"
        : "uninitialized";
  return {
    program,
    parsed: {
      type: "account",
      info: {
        isNative: isSome(token.isNative),
        mint: token.mint,
        owner: token.owner,
        state,
        tokenAmount: tokenAmount(token.amount, decimals),
        // As a validator writes them: each only when set.
        ...(isSome(token.delegate)
          ? { delegate: token.delegate.value, delegatedAmount: tokenAmount(token.delegatedAmount, decimals) }
          : {}),
        ...(isSome(token.isNative) ? { rentExemptReserve: tokenAmount(token.isNative.value, decimals) } : {}),
        ...(isSome(token.closeAuthority) ? { closeAuthority: token.closeAuthority.value } : {}),
      },
    },
    space,
  };
}
