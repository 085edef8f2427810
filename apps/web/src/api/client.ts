import { payingFetch } from "../x402/paying-fetch.ts";
import { paymentPrompt } from "../x402/prompt.ts";
import { errorFrom } from "./errors.ts";

const TOKEN_KEY = "robo402.account";

/** The account's access token (JWT), kept across reloads. */
export const accountToken = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (token: string | null) =>
    token ? localStorage.setItem(TOKEN_KEY, token) : localStorage.removeItem(TOKEN_KEY),
};

/** Every API call goes through here: a 402 is paid (after the user agrees) and the call retried. */
const send = payingFetch(paymentPrompt);

export interface CallOptions {
  readonly method?: "GET" | "POST" | "PATCH" | "DELETE";
  readonly body?: unknown;
  /** Replaces the account token (e.g. a drive session's token on /api/v1/robot/*). */
  readonly bearer?: string;
  /** Free mode's `X-Wallet-Address` (paid mode never trusts it). */
  readonly wallet?: string;
}

/** A JSON call to the API; a refusal throws ApiError with the API's reason in words. */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers = new Headers();
  const bearer = options.bearer ?? (path.startsWith("/api/v1/") ? null : accountToken.get());
  if (bearer) headers.set("authorization", `Bearer ${bearer}`);
  if (options.wallet) headers.set("x-wallet-address", options.wallet);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  const response = await send(path, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
