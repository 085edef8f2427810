import type { TokenResponse, UserResponse } from "@robo402/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { accountToken, api } from "../api/client.ts";

export interface Auth {
  readonly user: UserResponse | undefined;
  readonly loading: boolean;
  signIn(path: "/api/auth/login" | "/api/auth/register", body: unknown): Promise<UserResponse>;
  signOut(): void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [token, setToken] = useState(accountToken.get);
  const me = useQuery({
    queryKey: ["me", token],
    queryFn: () => api<UserResponse>("/api/auth/me"),
    enabled: Boolean(token),
    retry: false,
  });
  // An expired or revoked token is forgotten rather than shown as an error on every page.
  useEffect(() => {
    if (me.isError) {
      accountToken.set(null);
      setToken(null);
    }
  }, [me.isError]);

  const signIn = useCallback(
    async (path: "/api/auth/login" | "/api/auth/register", body: unknown) => {
      const answer = await api<TokenResponse>(path, { method: "POST", body });
      accountToken.set(answer.access_token);
      queries.setQueryData(["me", answer.access_token], answer.user);
      setToken(answer.access_token);
      return answer.user;
    },
    [queries],
  );
  const signOut = useCallback(() => {
    accountToken.set(null);
    setToken(null);
    queries.clear();
  }, [queries]);

  const auth = useMemo<Auth>(
    () => ({ user: token ? me.data : undefined, loading: Boolean(token) && me.isPending, signIn, signOut }),
    [token, me.data, me.isPending, signIn, signOut],
  );
  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
