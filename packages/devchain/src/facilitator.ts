import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PAYMENT_NETWORKS } from "@robo402/protocol";
import type { KeyPairSigner } from "@solana/kit";
import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme } from "@x402/evm/exact/facilitator";
import { toFacilitatorSvmSigner } from "@x402/svm";
import { registerExactSvmScheme } from "@x402/svm/exact/facilitator";
import type { VerifyTypedDataParameters } from "viem";
import { devchainClient } from "./client.ts";

export const NETWORK = PAYMENT_NETWORKS.local.id;

export interface FacilitatorServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves x402's facilitator API (GET /supported, POST /verify, POST /settle) the way
 * HTTPFacilitatorClient calls it, settling on the devchain from `signer`, which pays the gas (and on
 * the local Solana from `solana.feePayer`, which pays the fees).
 */
export async function startFacilitator(options: {
  rpcUrl: string;
  signer: `0x${string}`;
  /** Also settles `exact` on Solana: the local runtime's RPC (under the devnet id) and the fee payer's key. */
  solana?: { rpcUrl: string; network: `solana:${string}`; feePayer: KeyPairSigner };
  port?: number;
}): Promise<FacilitatorServer> {
  const client = devchainClient(options.rpcUrl, options.signer);
  const facilitator = registerExactEvmScheme(new x402Facilitator(), {
    signer: toFacilitatorEvmSigner({
      ...client,
      address: options.signer,
      // x402 types the typed data loosely; viem's stricter overloads accept it at run time.
      verifyTypedData: (args) => client.verifyTypedData(args as VerifyTypedDataParameters),
    }),
    networks: NETWORK,
  });
  if (options.solana) {
    registerExactSvmScheme(facilitator, {
      signer: toFacilitatorSvmSigner(options.solana.feePayer, { defaultRpcUrl: options.solana.rpcUrl }),
      networks: options.solana.network,
    });
  }

  const settlements = inTurn();
  const server = createServer((request, response) => {
    handle(facilitator, settlements, request, response).catch((error: unknown) => {
      send(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

// viem fills each settlement's nonce from the pending count, so two settlements sent at once would
// take the same nonce and one would fail; settling one after another costs a few ms on anvil.
function inTurn(): <T>(work: () => Promise<T>) => Promise<T> {
  let previous: Promise<unknown> = Promise.resolve();
  return (work) => {
    const turn = previous.then(work);
    previous = turn.catch(() => undefined);
    return turn;
  };
}

async function handle(
  facilitator: x402Facilitator,
  oneAtATime: ReturnType<typeof inTurn>,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const route = `${request.method} ${new URL(request.url ?? "/", "http://localhost").pathname}`;
  if (route === "GET /supported") return send(response, 200, facilitator.getSupported());
  if (route !== "POST /verify" && route !== "POST /settle") {
    return send(response, 404, { error: `no ${route}` });
  }

  let body: { paymentPayload?: PaymentPayload; paymentRequirements?: PaymentRequirements };
  try {
    body = JSON.parse(await readBody(request));
  } catch {
    return send(response, 400, { error: "the body is not JSON" });
  }
  const { paymentPayload, paymentRequirements } = body ?? {};
  if (!paymentPayload || !paymentRequirements) {
    return send(response, 400, { error: "the body needs paymentPayload and paymentRequirements" });
  }
  const result =
    route === "POST /verify"
      ? await facilitator.verify(paymentPayload, paymentRequirements)
      : await oneAtATime(() => facilitator.settle(paymentPayload, paymentRequirements));
  send(response, 200, result);
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
