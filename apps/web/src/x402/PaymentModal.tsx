import { AnimatePresence, motion } from "motion/react";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Button } from "../components/ui.tsx";
import { devWallet } from "../wallet/dev-wallet.ts";
import { useWallet } from "../wallet/WalletProvider.tsx";
import { LOCAL_NETWORK } from "./networks.ts";
import { paymentPrompt } from "./prompt.ts";

const STAGE_TEXT = {
  review: "Choose how to pay",
  paying: "Paying… sign in your wallet",
  verifying: "Verifying the payment…",
  confirmed: "Payment confirmed",
} as const;

/** The 402's payment: amount, network, service; then paying → verifying → confirmed. */
export function PaymentModal() {
  const state = useSyncExternalStore(paymentPrompt.subscribe, paymentPrompt.state);
  const wallet = useWallet();
  const [error, setError] = useState<string>();
  const dialog = useRef<HTMLDivElement>(null);
  const stage = state?.stage.kind;

  useEffect(() => {
    if (state) dialog.current?.focus();
  }, [state]);
  useEffect(() => {
    // A confirmed payment needs no click to go away.
    if (stage !== "confirmed") return;
    const timer = setTimeout(() => paymentPrompt.dismiss(), 1500);
    return () => clearTimeout(timer);
  }, [stage]);

  const local = state?.offer.networkId === LOCAL_NETWORK;
  const pay = async (use: "dev" | "injected") => {
    if (!state) return;
    setError(undefined);
    try {
      if (use === "dev") {
        wallet.chooseDevWallet();
        paymentPrompt.pay(devWallet);
      } else {
        await wallet.connectInjected();
        paymentPrompt.pay(await wallet.signer(state.offer.networkId));
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <AnimatePresence>
      {state && (
        <motion.div
          key="backdrop"
          initial={{ opacity: 0 }}
          animate={{ opacity: 1 }}
          exit={{ opacity: 0 }}
          className="fixed inset-0 z-50 flex items-end justify-center bg-black/50 p-2 sm:items-center"
        >
          <motion.div
            ref={dialog}
            role="dialog"
            aria-modal="true"
            aria-labelledby="payment-title"
            tabIndex={-1}
            initial={{ scale: 0.95, opacity: 0 }}
            animate={{ scale: 1, opacity: 1 }}
            className="w-full max-w-md rounded-lg bg-white p-6 shadow-xl"
            onKeyDown={(event) => {
              if (
                event.key === "Escape" &&
                (stage === "review" || stage === "confirmed" || stage === "failed")
              )
                paymentPrompt.dismiss();
            }}
          >
            <h2 id="payment-title" className="mb-4 text-2xl font-bold">
              Payment required
            </h2>
            <dl className="mb-6 space-y-2">
              <div className="flex justify-between gap-4">
                <dt className="text-slate-600">Service</dt>
                <dd className="text-right font-medium">{state.offer.service}</dd>
              </div>
              <div className="flex justify-between gap-4">
                <dt className="text-slate-600">Amount</dt>
                <dd className="text-xl font-bold" data-testid="payment-amount">
                  {state.offer.amount}
                </dd>
              </div>
              <div className="flex justify-between gap-4 text-sm">
                <dt className="text-slate-600">Network</dt>
                <dd>{state.offer.network}</dd>
              </div>
              <div className="flex justify-between gap-4 text-sm">
                <dt className="text-slate-600">To</dt>
                <dd className="break-all font-mono text-xs">{state.offer.payTo}</dd>
              </div>
            </dl>
            <p role="status" className="mb-4 font-medium" data-testid="payment-stage">
              {state.stage.kind === "failed" ? "Payment failed" : STAGE_TEXT[state.stage.kind]}
            </p>
            {state.stage.kind === "failed" && (
              <p role="alert" className="mb-4 whitespace-pre-line text-sm text-red-800">
                {state.stage.reason}
              </p>
            )}
            {error && (
              <p role="alert" className="mb-4 text-sm text-red-800">
                {error}
              </p>
            )}
            {stage === "review" && (
              <div className="flex flex-col gap-2">
                {local && (
                  <Button onClick={() => pay("dev")}>
                    Pay {state.offer.amount} with the dev wallet
                    <span className="block text-xs font-normal">
                      Local test key {devWallet.address.slice(0, 10)}…, test money only
                    </span>
                  </Button>
                )}
                <Button tone={local ? "secondary" : "primary"} onClick={() => pay("injected")}>
                  Pay {state.offer.amount} with a browser wallet
                </Button>
                <Button tone="secondary" onClick={() => paymentPrompt.dismiss()}>
                  Cancel
                </Button>
              </div>
            )}
            {(stage === "confirmed" || stage === "failed") && (
              <Button tone="secondary" onClick={() => paymentPrompt.dismiss()}>
                Close
              </Button>
            )}
          </motion.div>
        </motion.div>
      )}
    </AnimatePresence>
  );
}
