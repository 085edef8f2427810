import { z } from "zod";
import { EvmAddress } from "./marketplace.ts";

/** The second plan's roles: `user` runs robots and pays, `robot_owner` lists robots, `admin` runs the platform. */
export const Role = z.enum(["user", "robot_owner", "admin"]);
export type Role = z.infer<typeof Role>;

export const Email = z
  .string()
  .trim()
  .max(255, "must be at most 255 characters")
  .pipe(z.email("must be an email address, e.g. ada@example.com"))
  .transform((email) => email.toLowerCase());

// The upper bound keeps one request from making the server hash megabytes.
export const Password = z
  .string()
  .min(8, "must be at least 8 characters")
  .max(256, "must be at most 256 characters");

export const RegisterRequest = z.object({
  email: Email,
  password: Password,
  /** `user` unless given; `admin` is refused (an admin promotes accounts instead). */
  role: Role.optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const LoginRequest = z.object({
  email: Email,
  password: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const UserResponse = z.object({
  id: z.uuid(),
  email: z.string(),
  role: Role,
  /** Lower-case 0x address, linked by a SIWE signature; null until then. */
  wallet_address: z.string().nullable(),
  /** USDC, as a decimal string. */
  total_spent: z.string(),
  created_at: z.iso.datetime(),
});
export type UserResponse = z.infer<typeof UserResponse>;

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  /** Seconds until the token expires. */
  expires_in: z.number().int(),
  user: UserResponse,
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const WalletNonceRequest = z.object({
  /** The wallet that will sign: the SIWE message names it. */
  address: EvmAddress,
});
export type WalletNonceRequest = z.infer<typeof WalletNonceRequest>;

export const WalletNonceResponse = z.object({
  nonce: z.string(),
  /** An EIP-4361 message, ready for the wallet's personal_sign. */
  message: z.string(),
});
export type WalletNonceResponse = z.infer<typeof WalletNonceResponse>;

export const WalletLinkRequest = z.object({
  message: z.string().min(1, "must be the signed SIWE message").max(4096, "is too long for a SIWE message"),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "must be a 0x-prefixed hex signature"),
});
export type WalletLinkRequest = z.infer<typeof WalletLinkRequest>;

export const UserListQuery = z.object({
  /** Part of the email, any case. */
  q: z.string().trim().max(255).optional(),
  role: Role.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type UserListQuery = z.infer<typeof UserListQuery>;

export const UserListResponse = z.object({
  users: z.array(UserResponse),
  /** How many accounts match, ignoring limit and offset. */
  total: z.number().int(),
});
export type UserListResponse = z.infer<typeof UserListResponse>;

export const RoleUpdateRequest = z.object({ role: Role });
export type RoleUpdateRequest = z.infer<typeof RoleUpdateRequest>;
