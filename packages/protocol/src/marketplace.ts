import { isAddress } from "@solana/addresses";
import { z } from "zod";

/** USDC as a decimal string with at most 6 decimals (the token's own precision), e.g. "0.05". */
export const UsdcAmount = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .pipe(
    z
      .string()
      .regex(/^\d{1,14}(\.\d{1,6})?$/, "must be a USDC amount with at most 6 decimals, e.g. 0.05")
      .refine((value) => Number(value) > 0, "must be more than 0"),
  );

/** A service a robot sells, e.g. `snapshot`, `data-analysis`; `drive` is time-based control. */
export const ServiceName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    "must be a lower-case name of letters, digits and dashes, e.g. data-analysis",
  );

export const EvmAddress = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be an EVM address: 0x and 40 hex digits");

/** A Solana account: a base58-encoded 32-byte public key (a wallet, not its token account). */
export const SolanaAddress = z
  .string()
  .trim()
  .refine(isAddress, "must be a Solana address: a base58-encoded 32-byte public key");

export const RobotStatus = z.enum(["active", "inactive", "maintenance"]);
export type RobotStatus = z.infer<typeof RobotStatus>;

/**
 * The kinds of robot the platform can talk to (the server's robots/drivers/ has a file for each, which says
 * what it sells): `http-service` sells services per call at `endpoint`; `tumbller` is the Tumbller's HTTP
 * firmware sold by time ("drive"), with `host` as its `robot_host`; `link` is sold the same way but dials in
 * over the robot link with a device token (robo402-link beside it); `velocity` is a rover taking linear and
 * angular speed, its limits in `settings`. The database's `driver` column takes
 * this list too.
 */
export const ROBOT_KINDS = ["http-service", "tumbller", "link", "velocity"] as const;
export const RobotDriver = z.enum(ROBOT_KINDS);
export type RobotDriver = z.infer<typeof RobotDriver>;

/** What buying a robot gets: a session of live control ("time") or one execution ("calls"). */
export const RobotSells = z.enum(["time", "calls"]);
export type RobotSells = z.infer<typeof RobotSells>;

const HttpUrl = z
  .string()
  .trim()
  .max(500, "must be at most 500 characters")
  .pipe(z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }));

const RobotFields = {
  name: z.string().trim().min(1, "must not be empty").max(255, "must be at most 255 characters"),
  description: z.string().trim().max(5000, "must be at most 5000 characters").nullable().optional(),
  price: UsdcAmount,
  wallet_address: EvmAddress,
  /** Where Solana payments go; without it the robot is sold on EVM networks only. */
  solana_address: SolanaAddress.nullable().optional(),
  services: z
    .array(ServiceName)
    .min(1, "must list at least one service")
    .max(20, "must list at most 20 services")
    .refine((list) => new Set(list).size === list.length, "must not repeat a service"),
  endpoint: HttpUrl,
  status: RobotStatus.optional(),
  camera_url: HttpUrl.nullable().optional(),
  /** What the robot's kind needs beyond its addresses (a velocity robot's limits); its kind checks it. */
  settings: z.record(z.string(), z.unknown()).nullable().optional(),
};

export const RobotCreate = z.object({
  ...RobotFields,
  /** Where the platform calls the robot; a robot that dials in over the robot link (`link`) has none. */
  endpoint: HttpUrl.optional(),
  driver: RobotDriver.default("http-service"),
  /** Robots sold by time only: the `robot_host` buyers name (mDNS name or IPv4). */
  host: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/,
      "must be an mDNS name like finland-tumbller-01 or an IPv4 address",
    )
    .optional(),
});
export type RobotCreate = z.infer<typeof RobotCreate>;

export const RobotUpdate = z
  .object(RobotFields)
  .partial()
  .refine((update) => Object.keys(update).length > 0, "must change at least one field");
export type RobotUpdate = z.infer<typeof RobotUpdate>;

export const RobotMetricsSummary = z.object({
  total_executions: z.number().int(),
  /** Milliseconds. */
  avg_response_time: z.number(),
  /** 0 to 1. */
  success_rate: z.number(),
});

export const RobotResponse = z.object({
  id: z.uuid(),
  owner_id: z.uuid().nullable(),
  name: z.string(),
  description: z.string().nullable(),
  /** USDC per call (services) or per session (drive). */
  price: z.string(),
  currency: z.literal("USDC"),
  wallet_address: z.string(),
  solana_address: z.string().nullable(),
  services: z.array(z.string()),
  status: RobotStatus,
  driver: RobotDriver,
  /** From its kind: "time" is bought with `/api/v1/access/purchase` and driven, "calls" with `/execute`. */
  sells: RobotSells,
  /** Drive robots: the `robot_host` to buy with `/api/v1/access/purchase`. */
  host: z.string().nullable(),
  /**
   * Drive robots: what they take, from their kind. `motor`: `/api/v1/robot/motor/{command}`; `velocity`:
   * `POST /api/v1/robot/velocity` about ten times a second. Null for robots paid per call.
   */
  control: z.enum(["motor", "velocity"]).nullable(),
  /**
   * A robot that dials in over the robot link: its device token, in the answer that registers it (or
   * rotates the token) only. The platform keeps its hash; it cannot show it again.
   */
  device_token: z.string().optional(),
  /**
   * A robot that dials in over the robot link: whether its link is up now, anywhere in the cluster (it is
   * online and can be driven). Null for the robots the platform calls itself.
   */
  linked: z.boolean().nullable(),
  /** Only its owner and admins see where a robot is reached. */
  endpoint: z.string().optional(),
  camera_url: z.string().nullable().optional(),
  suspended: z.boolean(),
  created_at: z.iso.datetime(),
  metrics: RobotMetricsSummary,
});
export type RobotResponse = z.infer<typeof RobotResponse>;

export const RobotCatalogResponse = z.object({ robots: z.array(RobotResponse) });

export const RobotListQuery = z.object({
  /** The plan's filter: a service the robot sells (services are its categories). */
  category: ServiceName.optional(),
  service: ServiceName.optional(),
  /** `mine=true`: the caller's own robots, suspended and inactive ones included (owners and admins). */
  mine: z.enum(["true", "false"]).optional(),
});

export const RecentPayment = z.object({
  session_id: z.uuid(),
  amount: z.string(),
  currency: z.literal("USDC"),
  payer: z.string().nullable(),
  tx_signature: z.string().nullable(),
  service: z.string(),
  status: z.string(),
  paid_at: z.iso.datetime().nullable(),
});

export const RobotMetricsResponse = z.object({
  robot_id: z.uuid(),
  total_executions: z.number().int(),
  successful_executions: z.number().int(),
  failed_executions: z.number().int(),
  /** USDC, decimal string. */
  total_revenue: z.string(),
  success_rate: z.number(),
  /** Milliseconds. */
  avg_response_time: z.number(),
  recent_payments: z.array(RecentPayment),
});
export type RobotMetricsResponse = z.infer<typeof RobotMetricsResponse>;

/**
 * What `/api/execute/{robot_id}` takes: the service to run (default: the robot's first) and its input.
 * A body without `input` is taken whole as the input, so a plan-style client can post its payload as is.
 */
export const ExecuteRequest = z.looseObject({
  service: ServiceName.optional(),
  input: z.unknown().optional(),
});
export type ExecuteRequest = z.infer<typeof ExecuteRequest>;

export const ExecuteResponse = z.object({
  success: z.literal(true),
  data: z.unknown(),
  /** The payment session that paid; null in free mode. */
  session_id: z.uuid().nullable(),
  service: z.string(),
  /** Milliseconds the robot took. */
  response_time: z.number(),
  /** The paying transaction. */
  payment_tx: z.string().nullable(),
});

/** The second plan's 402 body (its X402Response), sent beside x402's own `accepts[]`. */
export const PlanPaymentRequired = z.object({
  error: z.string(),
  session_id: z.uuid(),
  amount: z.number(),
  currency: z.literal("USDC"),
  network: z.string(),
  recipient: z.string(),
  expires_at: z.iso.datetime(),
  service: z.string(),
  robot_id: z.uuid(),
  /** The token contract to transfer (the plan's flow pays by an ordinary transfer of it). */
  asset: z.string(),
});

export const VerifyPaymentRequest = z.object({
  session_id: z.uuid({ message: "must be the session_id of a 402" }),
  tx_signature: z.string().trim().min(1, "must be the paying transaction's hash").max(255),
});

export const VerifyPaymentResponse = z.union([
  z.object({ verified: z.literal(true), session_id: z.uuid(), tx_signature: z.string() }),
  z.object({
    verified: z.literal(false),
    error: z.string(),
    /** Which check failed: `unproven_payer`, `amount_too_low`, `too_old`, `reused`, `wrong_memo`, `expired`… */
    code: z.string().optional(),
  }),
]);

/**
 * The calldata suffix that binds a plan-flow EVM transfer to its payment session: the 16 bytes of the
 * session id (a UUID), appended right after the ERC-20 `transfer(recipient, amount)` arguments (viem:
 * `writeContract({ …, dataSuffix: sessionSuffix(session_id) })`). Solana's transfer carries the id as a memo.
 */
export function sessionSuffix(sessionId: string): `0x${string}` {
  const hex = sessionId.trim().toLowerCase().replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`"${sessionId}" is not a payment session id (a UUID)`);
  return `0x${hex}`;
}

/**
 * Money that reached a robot's wallet but paid nothing: a transfer checked on chain by
 * /api/payments/verify and refused (its payer unproven, too little, too early, for an expired session…).
 * Kept once per transaction, for the robot's owner (or an admin) to send back.
 */
export const UnmatchedTransferResponse = z.object({
  id: z.uuid(),
  /** CAIP-2 id of the chain, e.g. eip155:8453. */
  network: z.string(),
  tx_hash: z.string(),
  /** The token contract (mint on Solana). */
  asset: z.string(),
  /** Who the tokens came from: the address to refund. */
  sender: z.string(),
  /** The robot's wallet that received them. */
  recipient: z.string(),
  /** In the asset's base units (USDC: 6 decimals, "50000" = 0.05), as a decimal string. */
  amount: z.string(),
  /** Why it paid nothing: the refusal's code and sentence. */
  code: z.string(),
  reason: z.string(),
  payment_session_id: z.uuid().nullable(),
  robot_id: z.uuid().nullable(),
  created_at: z.iso.datetime(),
  refunded_at: z.iso.datetime().nullable(),
  refund_tx: z.string().nullable(),
});
export type UnmatchedTransferResponse = z.infer<typeof UnmatchedTransferResponse>;

export const UnmatchedTransferQuery = z.object({
  robot_id: z.uuid().optional(),
  /** `false`: only those still owed; `true`: only those sent back. Default: both. */
  refunded: z.enum(["true", "false"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const UnmatchedTransferListResponse = z.object({
  unmatched_transfers: z.array(UnmatchedTransferResponse),
});

export const RefundRequest = z.object({
  refund_tx: z
    .string()
    .trim()
    .min(1, "must be the transaction that sent the money back")
    .max(255, "must be at most 255 characters"),
});

export const PaymentSessionResponse = z.object({
  id: z.uuid(),
  user_id: z.uuid().nullable(),
  robot_id: z.uuid(),
  amount: z.string(),
  currency: z.literal("USDC"),
  network: z.string(),
  asset: z.string(),
  recipient_address: z.string(),
  status: z.enum(["pending", "paid", "completed", "expired"]),
  tx_signature: z.string().nullable(),
  payer: z.string().nullable(),
  service: z.string(),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  paid_at: z.iso.datetime().nullable(),
});
export type PaymentSessionResponse = z.infer<typeof PaymentSessionResponse>;

export const ExecutionLogResponse = z.object({
  id: z.uuid(),
  session_id: z.uuid().nullable(),
  robot_id: z.uuid(),
  user_id: z.uuid().nullable(),
  status: z.enum(["success", "failed", "timeout"]),
  /** Milliseconds. */
  response_time: z.number(),
  error: z.string().nullable(),
  executed_at: z.iso.datetime(),
});

const Page = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

export const PaymentListQuery = z.object({
  status: z.enum(["pending", "paid", "completed", "expired"]).optional(),
  robot_id: z.uuid().optional(),
  user_id: z.uuid().optional(),
  /** `owned`: payments to the caller's robots (owners); default: the caller's own payments. */
  scope: z.enum(["mine", "owned", "all"]).default("mine"),
  ...Page,
});

export const ExecutionListQuery = z.object({
  status: z.enum(["success", "failed", "timeout"]).optional(),
  robot_id: z.uuid().optional(),
  user_id: z.uuid().optional(),
  scope: z.enum(["mine", "owned", "all"]).default("mine"),
  ...Page,
});

export const PaymentListResponse = z.object({ payments: z.array(PaymentSessionResponse) });
export const ExecutionListResponse = z.object({ executions: z.array(ExecutionLogResponse) });
