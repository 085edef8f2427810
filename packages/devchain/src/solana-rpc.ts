import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Address, isAddress } from "@solana/kit";
import type { Commitment, LocalSolana } from "./solana-runtime.ts";

/**
 * Solana's JSON-RPC over the local runtime, for exactly the calls robo402's code makes: the x402 client
 * (getAccountInfo for the mint, getLatestBlockhash), the x402 facilitator (simulateTransaction,
 * sendTransaction, getSignatureStatuses) and the plan-flow verifier (getSignatureStatuses,
 * getTransaction). Answers have the shapes a validator gives; anything else is "method not found".
 */
export interface SolanaRpcServer {
  url: string;
  close(): Promise<void>;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const RANK: Record<Commitment, number> = { processed: 0, confirmed: 1, finalized: 2 };

type Params = unknown[];
type Method = (solana: LocalSolana, params: Params) => unknown;

const METHODS: Record<string, Method> = {
  getAccountInfo(solana, [address, config]) {
    wantBase64(config);
    const account = solana.svm.getAccount(addressParam(address));
    return {
      context: { slot: solana.slot },
      value: account.exists
        ? {
            data: [Buffer.from(account.data).toString("base64"), "base64"],
            executable: account.executable,
            lamports: account.lamports,
            owner: account.programAddress,
            rentEpoch: 0,
            space: account.data.length,
          }
        : null,
    };
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

  sendTransaction(solana, [transaction, config]) {
    if ((config as { encoding?: string } | undefined)?.encoding !== "base64")
      throw new RpcError(-32602, "only base64 transactions are supported");
    return solana.send(wire(transaction));
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

function wantBase64(config: unknown) {
  const encoding = (config as { encoding?: string } | undefined)?.encoding;
  if (encoding !== undefined && encoding !== "base64")
    throw new RpcError(-32602, `encoding ${encoding} is not supported here; use base64`);
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
    send(response, { jsonrpc: "2.0", id, error: { code, message: (error as Error).message } });
  }
}

function send(response: ServerResponse, body: unknown) {
  // Validators write u64s (lamports, slots) as JSON numbers; these stay far below 2^53.
  const text = JSON.stringify(body, (_, value) => (typeof value === "bigint" ? Number(value) : value));
  response.writeHead(200, { "content-type": "application/json" }).end(text);
}
