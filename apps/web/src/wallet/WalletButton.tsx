import { useState } from "react";
import { useAccessConfig } from "../api/queries.ts";
import { Button } from "../components/ui.tsx";
import { LOCAL_NETWORK } from "../x402/networks.ts";
import { useWallet } from "./WalletProvider.tsx";

const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/** Connect an injected wallet, or (on the local chain) use the dev wallet. */
export function WalletButton() {
  const wallet = useWallet();
  const config = useAccessConfig();
  const [error, setError] = useState<string>();
  const local = config.data?.network === LOCAL_NETWORK;

  if (wallet.address)
    return (
      <div className="flex items-center gap-2 text-sm">
        <span data-testid="wallet-address" className="font-mono">
          {wallet.kind === "dev" ? "Dev wallet " : ""}
          {short(wallet.address)}
        </span>
        <Button tone="secondary" className="px-2 py-1 text-sm" onClick={wallet.disconnect}>
          Disconnect
        </Button>
      </div>
    );
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm">
      {local && (
        <Button tone="secondary" className="px-2 py-1 text-sm" onClick={wallet.chooseDevWallet}>
          Use dev wallet (test)
        </Button>
      )}
      <Button
        className="px-2 py-1 text-sm"
        onClick={() => wallet.connectInjected().catch((err: Error) => setError(err.message))}
      >
        Connect wallet
      </Button>
      {error && (
        <span role="alert" className="text-red-800">
          {error}
        </span>
      )}
    </div>
  );
}
