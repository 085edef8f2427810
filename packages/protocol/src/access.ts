import { z } from "zod";

/**
 * A wallet as the first plan's clients send it in `X-Wallet-Address`. Free mode accepts any
 * address-like string (the plan's own examples use `0x123`); EVM hex is compared case-insensitively.
 */
export const WalletAddress = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{3,128}$/, "must be a wallet address: 3 to 128 letters or digits, e.g. 0xAbC…");

/** A robot as the plan names it: an mDNS name (`finland-tumbller-01`) or an IP address. */
export const RobotHost = z
  .string()
  .trim()
  .min(1, "must name a robot, e.g. finland-tumbller-01")
  .max(253, "is too long for a host name");

export const PurchaseRequest = z.object({ robot_host: RobotHost });
export type PurchaseRequest = z.infer<typeof PurchaseRequest>;

export const SessionResponse = z.object({
  active: z.boolean(),
  robot_host: z.string().nullable().optional(),
  expires_at: z.iso.datetime().nullable().optional(),
  remaining_seconds: z.number().int().nullable().optional(),
  /** Paid mode, in the purchase answer only: send it as `Authorization: Bearer <token>` on control calls. */
  token: z.string().optional(),
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const PurchaseResponse = z.object({
  status: z.string(),
  message: z.string(),
  session: SessionResponse,
  payment_tx: z.string().nullable(),
});
export type PurchaseResponse = z.infer<typeof PurchaseResponse>;

export const ReleaseResponse = z.object({
  status: z.literal("released"),
  robot_host: z.string(),
});
export type ReleaseResponse = z.infer<typeof ReleaseResponse>;

export const AccessConfigResponse = z.object({
  payment_enabled: z.boolean(),
  session_duration_minutes: z.number(),
  session_price: z.string().nullable(),
  /** Paid mode: the CAIP-2 network payments are taken on, and where they go. */
  network: z.string().nullable(),
  pay_to: z.string().nullable(),
});
export type AccessConfigResponse = z.infer<typeof AccessConfigResponse>;

export const HealthResponse = z.object({
  status: z.literal("healthy"),
  payment_enabled: z.boolean(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
