import { ExactEvmScheme } from "@x402/evm/exact/server";
import type { ChainFamily } from "../types.ts";
import {
  authorizationOf,
  authorizationTransaction,
  eip3009Problem,
  isAuthorizationUsed,
} from "./authorization.ts";
import { openEvmNetwork } from "./networks.ts";
import { evmTransferVerifier } from "./transfer.ts";

/** EVM chains: EIP-3009 authorizations through @x402/evm, ERC-20 transfers checked by their receipts. */
export const evmFamily: ChainFamily = {
  namespace: "eip155",
  open: openEvmNetwork,
  serverScheme: () => new ExactEvmScheme(),
  authorization(payload) {
    const auth = authorizationOf(payload);
    if (auth) return auth;
    return {
      problem: `a well-formed EIP-3009 authorization, the only kind accepted here (${eip3009Problem(payload) ?? "unreadable"})`,
    };
  },
  canonical: (address) => address.toLowerCase(),
  async settled(network, payment) {
    const auth = { payer: payment.payer, nonce: payment.nonce };
    if (!(await isAuthorizationUsed(network.rpcUrl, payment.asset, auth))) return { landed: false };
    return { landed: true, txHash: await authorizationTransaction(network.rpcUrl, payment.asset, auth) };
  },
  verifier: (network, options) =>
    evmTransferVerifier({ rpcUrl: network.rpcUrl, confirmations: options.confirmations }),
};
