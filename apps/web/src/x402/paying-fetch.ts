import type { ClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import type { PaymentRequired, PaymentRequirements } from "@x402/fetch";
import { wrapFetchWithPayment, x402Client, x402HTTPClient } from "@x402/fetch";
import { describeBody, PaymentCancelled } from "../api/errors.ts";
import { formatAmount, networkName } from "./networks.ts";
import type { PaymentOffer, PaymentPrompt } from "./prompt.ts";

/** The most one payment may cost, in the asset's base units ($10 of USDC), whatever a server asks. */
export const MAX_PAYMENT = 10_000_000n;

function offerOf(required: PaymentRequired, chosen: PaymentRequirements): PaymentOffer {
  const assetName = typeof chosen.extra?.name === "string" ? chosen.extra.name : "USDC";
  return {
    amount: formatAmount(chosen.amount, /usd/i.test(assetName) ? "USDC" : assetName),
    network: networkName(chosen.network),
    networkId: chosen.network,
    service: required.resource?.description || required.resource?.url || "this request",
    payTo: chosen.payTo,
  };
}

/**
 * fetch that meets HTTP 402 in one place: it asks the user through `prompt` (amount, network, service;
 * which wallet), pays with x402's exact EVM scheme, and retries, so callers only see the final answer.
 * The asset paid in is the one the server's 402 names (x402Client refuses tokens it does not know, and
 * the local test USDC is one), never above MAX_PAYMENT.
 */
export function payingFetch(
  prompt: PaymentPrompt,
  base: typeof fetch = fetch.bind(globalThis),
): typeof fetch {
  return async (input, init) => {
    let signer: ClientEvmSigner | undefined;
    let cancelled = false;
    let paid = false;
    const chosenSigner = () => {
      if (!signer) throw new Error("no wallet was chosen");
      return signer;
    };
    const client = new x402Client().register(
      "eip155:*",
      new ExactEvmScheme({
        get address() {
          return chosenSigner().address;
        },
        signTypedData: (message) => chosenSigner().signTypedData(message),
      }),
    );
    client.onBeforePaymentCreation(async ({ paymentRequired, selectedRequirements }) => {
      try {
        signer = await prompt.approve(offerOf(paymentRequired, selectedRequirements));
      } catch (error) {
        cancelled = error instanceof PaymentCancelled;
        return { abort: true, reason: cancelled ? "cancelled" : String(error) };
      }
    });
    client.onAfterPaymentCreation(async () => {
      paid = true;
      prompt.stage({ kind: "verifying" });
    });
    const http = new x402HTTPClient(client).onPaymentRequired(async ({ paymentRequired }) => {
      client.setSpendControls({
        allowedAssets: paymentRequired.accepts
          .filter((offer) => offer.network.startsWith("eip155:"))
          .map((offer) => ({
            network: offer.network,
            asset: offer.asset,
            maxAmountPerPayment: MAX_PAYMENT.toString(),
          })),
      });
    });

    let response: Response;
    try {
      response = await wrapFetchWithPayment(base, http)(input, init);
    } catch (error) {
      if (cancelled) throw new PaymentCancelled();
      if (paid || signer) prompt.stage({ kind: "failed", reason: String(error) });
      throw error;
    }
    if (paid) {
      if (response.ok) prompt.stage({ kind: "confirmed" });
      else {
        const body = await response
          .clone()
          .json()
          .catch(() => undefined);
        prompt.stage({ kind: "failed", reason: describeBody(body, response.status) });
      }
    }
    return response;
  };
}
