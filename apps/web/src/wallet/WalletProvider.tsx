import type { ClientEvmSigner } from "@x402/evm";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { useConnect, useConnection, useConnectors, useDisconnect } from "wagmi";
import { getWalletClient, switchChain } from "wagmi/actions";
import { wagmiConfig } from "./config.ts";
import { devWallet } from "./dev-wallet.ts";

export type WalletKind = "dev" | "injected";

export interface Wallet {
  readonly kind: WalletKind | null;
  readonly address: `0x${string}` | undefined;
  chooseDevWallet(): void;
  connectInjected(): Promise<void>;
  disconnect(): void;
  /** A signer for x402 payments on `networkId` (CAIP-2), from the chosen wallet. */
  signer(networkId: string): Promise<ClientEvmSigner>;
}

const WalletContext = createContext<Wallet | null>(null);
const STORAGE_KEY = "robo402.wallet";

export function WalletProvider({ children }: { children: ReactNode }) {
  const [dev, setDev] = useState(() => localStorage.getItem(STORAGE_KEY) === "dev");
  const connection = useConnection();
  const connectors = useConnectors();
  const { mutateAsync: connect } = useConnect();
  const { mutate: disconnectInjected } = useDisconnect();

  const injectedConnector = connectors[0];
  const chooseDev = useCallback((on: boolean) => {
    setDev(on);
    if (on) localStorage.setItem(STORAGE_KEY, "dev");
    else localStorage.removeItem(STORAGE_KEY);
  }, []);

  const connectInjected = useCallback(async () => {
    // An EIP-1193 wallet announces itself as window.ethereum; without one, say so in words.
    if (!injectedConnector || !("ethereum" in window))
      throw new Error(
        "No browser wallet found. Install one (e.g. MetaMask), or use the dev wallet on the local chain.",
      );
    chooseDev(false);
    if (!connection.isConnected) await connect({ connector: injectedConnector });
  }, [chooseDev, connect, connection.isConnected, injectedConnector]);

  const signer = useCallback(
    async (networkId: string): Promise<ClientEvmSigner> => {
      if (dev) return devWallet;
      const chainId = Number(networkId.split(":")[1]);
      if (connection.chainId !== chainId) await switchChain(wagmiConfig, { chainId: chainId as never });
      const client = await getWalletClient(wagmiConfig, { chainId: chainId as never });
      return {
        address: client.account.address,
        signTypedData: (message) =>
          client.signTypedData({ account: client.account, ...message } as Parameters<
            typeof client.signTypedData
          >[0]),
      };
    },
    [dev, connection.chainId],
  );

  const wallet = useMemo<Wallet>(
    () => ({
      kind: dev ? "dev" : connection.isConnected ? "injected" : null,
      address: dev ? devWallet.address : connection.address,
      chooseDevWallet: () => chooseDev(true),
      connectInjected,
      disconnect: () => {
        chooseDev(false);
        if (connection.isConnected) disconnectInjected({});
      },
      signer,
    }),
    [dev, connection.isConnected, connection.address, chooseDev, connectInjected, disconnectInjected, signer],
  );
  return <WalletContext.Provider value={wallet}>{children}</WalletContext.Provider>;
}

export function useWallet(): Wallet {
  const wallet = useContext(WalletContext);
  if (!wallet) throw new Error("useWallet outside WalletProvider");
  return wallet;
}
