import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Address,
  isAddress,
  isSolanaError,
  SOLANA_ERROR__TRANSACTION__SIGNATURES_MISSING,
} from "@solana/kit";
import { describeTransactionError } from "./solana-errors.ts";
import {
  accountEncoding,
  decodeMint,
  decodeToken,
  encodeAccount,
  isMint,
  isTokenAccount,
  isTokenProgram,
  RpcError,
  tokenAmount,
} from "./solana-rpc-accounts.ts";
import type { Commitment, LocalSolana } from "./solana-runtime.ts";

/**
 * Solana's JSON-RPC over the local runtime: the calls robo402's code makes (the x402 client's
 * getAccountInfo and getLatestBlockhash; the facilitator's simulateTransaction, sendTransaction and
 * getSignatureStatuses; the plan-flow verifier's getTransaction) and the ones wallets and scripts use
 * to look at balances (getBalance, getTokenAccountBalance, getTokenAccountsByOwner, in base64 or
 * jsonParsed). Answers have the shapes a validator gives, and sendTransaction runs preflight as one
 * does; anything else is "method not found".
 */
export interface SolanaRpcServer {
  url: string;
  close(): Promise<void>;
}

const RANK: Record<Commitment, number> = { processed: 0, confirmed: 1, finalized: 2 };

type Params = unknown[];
type Method = (solana: LocalSolana, params: Params) => unknown;

const METHODS: Record<string, Method> = {
  getAccountInfo(solana, [address, config]) {
    const encoding = accountEncoding(config as AccountConfig);
    const account = solana.svm.getAccount(addressParam(address));
    return {
      context: { slot: solana.slot },
      value: account.exists
        ? encodeAccount(account, encoding, decimalsIn(solana), (config as AccountConfig)?.dataSlice)
        : null,
    };
  },

  getBalance(solana, [address]) {
    return { context: { slot: solana.slot }, value: solana.svm.getBalance(addressParam(address)) ?? 0n };
  },

  getTokenAccountBalance(solana, [address]) {
    const account = solana.svm.getAccount(addressParam(address));
    if (!account.exists) throw new RpcError(-32602, "Invalid param: could not find account");
    if (!isTokenAccount(account)) throw new RpcError(-32602, "Invalid param: not a Token account");
    const { amount, mint } = decodeToken(account);
    const decimals = decimalsIn(solana)(mint);
    if (decimals === undefined) throw new RpcError(-32602, "Invalid param: could not find mint");
    return { context: { slot: solana.slot }, value: tokenAmount(amount, decimals) };
  },

  getTokenAccountsByOwner(solana, [owner, filter, config]) {
    const ownerAddress = addressParam(owner);
    const { mint, programId } = (filter ?? {}) as { mint?: unknown; programId?: unknown };
    if ((mint === undefined) === (programId === undefined))
      throw new RpcError(-32602, "Invalid params: the filter needs either `mint` or `programId`");
    let program: string;
    if (mint !== undefined) {
      const account = solana.svm.getAccount(addressParam(mint));
      if (!account.exists || !isMint(account))
        throw new RpcError(-32602, "Invalid param: could not find mint");
      program = account.programAddress;
    } else {
      program = addressParam(programId);
      if (!isTokenProgram(program))
        throw new RpcError(-32602, "Invalid param: unrecognized Token program id");
    }
    const encoding = accountEncoding(config as AccountConfig);
    const decimals = decimalsIn(solana);
    const value = solana.svm
      .getProgramAccounts(program as Address)
      .filter((account) => isTokenAccount(account))
      .filter((account) => {
        const token = decodeToken(account);
        return token.owner === ownerAddress && (mint === undefined || token.mint === mint);
      })
      .map((account) => ({
        pubkey: account.address,
        account: encodeAccount(account, encoding, decimals, (config as AccountConfig)?.dataSlice),
      }));
    return { context: { slot: solana.slot }, value };
  },

  getMinimumBalanceForRentExemption(solana, [size]) {
    if (!Number.isInteger(size) || (size as number) < 0)
      throw new RpcError(-32602, "Invalid params: expected a data length");
    return solana.svm.minimumBalanceForRentExemption(BigInt(size as number));
  },

  getSlot(solana) {
    return solana.slot;
  },

  // One block per slot, none skipped.
  getBlockHeight(solana) {
    return solana.slot;
  },

  getLatestBlockhash(solana) {
    return {
      context: { slot: solana.slot },
      value: { blockhash: solana.svm.latestBlockhash(), lastValidBlockHeight: solana.slot + 150n },
    };
  },

  simulateTransaction(solana, [transaction, config]) {
    const options = (config ?? {}) as { sigVerify?: boolean; encoding?: string; innerInstructions?: boolean };
    if (options.encoding !== "base64") throw new RpcError(-32602, "only base64 transactions are supported");
    const result = solana.simulate(wire(transaction), options.sigVerify ?? false);
    return {
      context: { slot: solana.slot },
      value: {
        err: result.err,
        logs: result.logs,
        unitsConsumed: result.unitsConsumed,
        accounts: null,
        returnData: null,
        ...(options.innerInstructions ? { innerInstructions: [] } : {}),
      },
    };
  },

  /**
   * As a validator: unless `skipPreflight`, the transaction is first checked (signatures, then a
   * simulation) and one that would fail is refused with the simulation's error and logs (-32002)
   * instead of landing; with `skipPreflight` it lands, failed or not.
   */
  sendTransaction(solana, [transaction, config]) {
    const options = (config ?? {}) as { encoding?: string; skipPreflight?: boolean };
    if (options.encoding !== "base64") throw new RpcError(-32602, "only base64 transactions are supported");
    const bytes = wire(transaction);
    if (!options.skipPreflight) preflight(solana, bytes);
    return solana.send(bytes);
  },

  getSignatureStatuses(solana, [signatures]) {
    if (!Array.isArray(signatures)) throw new RpcError(-32602, "expected a list of signatures");
    return {
      context: { slot: solana.slot },
      value: signatures.map((signature) => {
        const landed = solana.landed(String(signature));
        if (!landed) return null;
        return {
          slot: landed.slot,
          confirmations: landed.status === "finalized" ? null : 0,
          err: landed.err,
          status: landed.err ? { Err: landed.err } : { Ok: null },
          confirmationStatus: landed.status,
        };
      }),
    };
  },

  getTransaction(solana, [signature, config]) {
    const options = (config ?? {}) as { encoding?: string; commitment?: Commitment };
    if (options.encoding !== "base64") throw new RpcError(-32602, "only base64 encoding is supported");
    const landed = solana.landed(String(signature));
    // A validator answers only at the asked commitment (getTransaction does not serve `processed`).
    if (!landed || RANK[landed.status] < RANK[options.commitment ?? "finalized"]) return null;
    return {
      slot: landed.slot,
      blockTime: landed.blockTime,
      version: 0,
      transaction: [Buffer.from(landed.wire).toString("base64"), "base64"],
      meta: {
        err: landed.err,
        fee: landed.fee,
        logMessages: landed.logs,
        innerInstructions: [],
        loadedAddresses: { writable: [], readonly: [] },
        preBalances: [],
        postBalances: [],
        preTokenBalances: [],
        postTokenBalances: [],
        rewards: [],
        status: landed.err ? { Err: landed.err } : { Ok: null },
      },
    };
  },
};

interface AccountConfig {
  encoding?: unknown;
  dataSlice?: unknown;
}

function preflight(solana: LocalSolana, bytes: Uint8Array) {
  let result: ReturnType<LocalSolana["simulate"]>;
  try {
    result = solana.simulate(bytes, true);
  } catch (error) {
    if (isSolanaError(error, SOLANA_ERROR__TRANSACTION__SIGNATURES_MISSING)) throw signatureFailure();
    throw error;
  }
  if (result.err === null) return;
  if (result.err === "SignatureFailure") throw signatureFailure();
  throw new RpcError(-32002, `Transaction simulation failed: ${describeTransactionError(result.err)}`, {
    accounts: null,
    err: result.err,
    innerInstructions: null,
    loadedAccountsDataSize: null,
    logs: result.logs,
    replacementBlockhash: null,
    returnData: null,
    unitsConsumed: result.unitsConsumed,
  });
}

const signatureFailure = () => new RpcError(-32003, "Transaction signature verification failure");

/** A mint's decimals, read from the chain (undefined when there is no such mint). */
function decimalsIn(solana: LocalSolana) {
  return (mint: Address): number | undefined => {
    const account = solana.svm.getAccount(mint);
    return account.exists && isMint(account) ? decodeMint(account).decimals : undefined;
  };
}

function addressParam(value: unknown): Address {
  if (typeof value !== "string" || !isAddress(value))
    throw new RpcError(-32602, "Invalid param: not a base58 address");
  return value;
}

function wire(value: unknown): Uint8Array {
  if (typeof value !== "string") throw new RpcError(-32602, "expected a base64 transaction");
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** Serves the runtime's JSON-RPC on 127.0.0.1 (a free port unless one is given). */
export async function startSolanaRpc(solana: LocalSolana, port = 0): Promise<SolanaRpcServer> {
  const server = createServer((request, response) => {
    handle(solana, request, response).catch((error: unknown) => {
      send(response, { jsonrpc: "2.0", id: null, error: { code: -32603, message: String(error) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(solana: LocalSolana, request: IncomingMessage, response: ServerResponse) {
  let body = "";
  for await (const chunk of request) body += chunk;
  let call: { id?: unknown; method?: unknown; params?: unknown };
  try {
    call = JSON.parse(body);
  } catch {
    return send(response, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
  }
  const id = call.id ?? null;
  const method = typeof call.method === "string" ? METHODS[call.method] : undefined;
  if (!method)
    return send(response, {
      jsonrpc: "2.0",
      id,
      error: { code: -32601, message: `Method not found: ${String(call.method)}` },
    });
  try {
    const result = method(solana, Array.isArray(call.params) ? call.params : []);
    send(response, { jsonrpc: "2.0", id, result });
  } catch (error) {
    const code = error instanceof RpcError ? error.code : -32603;
    const data = error instanceof RpcError && error.data !== undefined ? { data: error.data } : {};
    send(response, { jsonrpc: "2.0", id, error: { code, message: (error as Error).message, ...data } });
  }
}

function send(response: ServerResponse, body: unknown) {
  // Validators write u64s (lamports, slots) as JSON numbers; these stay far below 2^53.
  const text = JSON.stringify(body, (_, value) => (typeof value === "bigint" ? Number(value) : value));
  response.writeHead(200, { "content-type": "application/json" }).end(text);
}
