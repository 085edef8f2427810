import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import {
  LoginRequest,
  RegisterRequest,
  TokenResponse,
  UserResponse,
  WalletLinkRequest,
  WalletNonceRequest,
  WalletNonceResponse,
} from "@robo402/protocol";
import { validationHook } from "../http/errors.ts";
import { bearer, describeBearer, errors, json } from "../http/openapi.ts";
import { type AuthEnv, authenticate, requireUser, signedIn } from "./middleware.ts";
import type { AuthService, SignedIn } from "./service.ts";
import { userResponse } from "./user-response.ts";

const tokenResponse = (signed: SignedIn): TokenResponse => ({
  access_token: signed.token,
  token_type: "bearer",
  expires_in: signed.expiresIn,
  user: userResponse(signed.user),
});

const body = <T extends Parameters<typeof json>[0]>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

const tokenErrors = errors({
  401: "Token missing, malformed, expired or wrongly signed (the detail says which)",
});

const register = createRoute({
  method: "post",
  path: "/register",
  summary: "Create an account and get an access token",
  request: body(RegisterRequest),
  responses: {
    201: json(TokenResponse, "The account and a bearer token for it"),
    ...errors({
      403: "role admin cannot be chosen at sign-up",
      409: "An account with this email already exists",
      422: "Email, password (8+ characters) or role is invalid",
    }),
  },
});

const login = createRoute({
  method: "post",
  path: "/login",
  summary: "Exchange email and password for an access token",
  request: body(LoginRequest),
  responses: {
    200: json(TokenResponse, "A bearer token"),
    ...errors({ 401: "Incorrect email or password", 422: "Email or password missing" }),
  },
});

const me = createRoute({
  method: "get",
  path: "/me",
  summary: "The signed-in account",
  security: bearer,
  responses: { 200: json(UserResponse, "The account"), ...tokenErrors },
});

const walletNonce = createRoute({
  method: "post",
  path: "/wallet/nonce",
  summary: "A Sign-In with Ethereum message to link a wallet",
  description: "Sign `message` with the wallet (personal_sign) within 5 minutes and send it to POST /wallet.",
  security: bearer,
  request: body(WalletNonceRequest),
  responses: {
    200: json(WalletNonceResponse, "A single-use nonce and the EIP-4361 message carrying it"),
    ...tokenErrors,
    ...errors({ 422: "address is not an EVM address" }),
  },
});

const linkWallet = createRoute({
  method: "post",
  path: "/wallet",
  summary: "Link the wallet that signed a SIWE message to the account",
  security: bearer,
  request: body(WalletLinkRequest),
  responses: {
    200: json(UserResponse, "The account, with its wallet"),
    ...tokenErrors,
    ...errors({
      400: "The message or signature is refused (the detail says why)",
      409: "The wallet is linked to another account",
      422: "message or signature missing",
    }),
  },
});

const unlinkWallet = createRoute({
  method: "delete",
  path: "/wallet",
  summary: "Unlink the account's wallet",
  security: bearer,
  responses: { 200: json(UserResponse, "The account, without a wallet"), ...tokenErrors },
});

/** `/api/auth/*`: accounts and wallet linking. */
export function authRoutes(auth: AuthService) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  describeBearer(app);
  app.use("*", authenticate(auth));
  for (const path of ["/me", "/wallet", "/wallet/*"]) app.use(path, requireUser());
  return app
    .openapi(register, async (c) => c.json(tokenResponse(await auth.register(c.req.valid("json"))), 201))
    .openapi(login, async (c) => {
      const { email, password } = c.req.valid("json");
      return c.json(tokenResponse(await auth.login(email, password)), 200);
    })
    .openapi(me, async (c) => c.json(userResponse(await auth.account(signedIn(c).id)), 200))
    .openapi(walletNonce, async (c) => {
      const { address } = c.req.valid("json");
      const challenge = await auth.walletChallenge(signedIn(c), address as `0x${string}`);
      return c.json(challenge, 200);
    })
    .openapi(linkWallet, async (c) => {
      const { message, signature } = c.req.valid("json");
      const user = await auth.linkWallet(signedIn(c), message, signature as `0x${string}`);
      return c.json(userResponse(user), 200);
    })
    .openapi(unlinkWallet, async (c) => c.json(userResponse(await auth.unlinkWallet(signedIn(c))), 200));
}
