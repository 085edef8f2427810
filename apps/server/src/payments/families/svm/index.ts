import { ExactSvmScheme } from "@x402/svm/exact/server";
import type { ChainFamily } from "../types.ts";
import { svmAuthorizationOf } from "./authorization.ts";
import { openSvmNetwork } from "./networks.ts";
import { solanaTransferVerifier } from "./transfer.ts";

/** Solana: SPL transfers co-signed by the facilitator through @x402/svm, and plain transfers with a memo. */
export const svmFamily: ChainFamily = {
  namespace: "solana",
  open: openSvmNetwork,
  serverScheme: () => new ExactSvmScheme(),
  authorization: svmAuthorizationOf,
  canonical: (address) => address,
  // The transaction's id is the facilitator's signature, which the ledger never sees before settlement
  // answers: an interrupted one is left for a person to look up by the payer's signature.
  settled: async () => undefined,
  verifier: (network, options) =>
    solanaTransferVerifier({ rpcUrl: network.rpcUrl, commitment: options.commitment }),
};
