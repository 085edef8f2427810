import { NETWORK_NAMES, type NetworkName, PAYMENT_NETWORKS } from "@robo402/protocol";
import { isAddress } from "@solana/kit";
import { z } from "zod";

const bool = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      if (["true", "1", "yes", "on"].includes(value)) return true;
      if (["false", "0", "no", "off"].includes(value)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got '${value}'` });
      return z.NEVER;
    });

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: "expected a whole number" })
    .int("expected a whole number")
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`)
    .default(fallback);

/** A list given as JSON (`["a","b"]`) or comma-separated (`a,b`). */
const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const text = value.trim();
      if (text.startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) return parsed;
        } catch {}
        ctx.addIssue({
          code: "custom",
          message: "expected a JSON list of strings or a comma-separated list",
        });
        return z.NEVER;
      }
      return text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
    });

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const solanaAddress = optionalText.pipe(
  z.string().refine(isAddress, "expected a Solana address (base58, 32 bytes)").optional(),
);

const EnvSchema = z.object({
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  PORT: int(8000, 0, 65535),
  DEBUG: bool(false),
  CORS_ORIGINS: list(["http://localhost:5173", "http://localhost:3000"]),
  /**
   * The origin clients use: SIGN-IN-WITH-X and SIWE sign-ins must name it. Required in paid mode on a
   * public network; elsewhere the default is the server's own, http://localhost:PORT and 127.0.0.1:PORT.
   */
  PUBLIC_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional(),
  ),
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry (rate limits). */
  TRUST_PROXY: bool(false),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),

  PAYMENT_ENABLED: bool(true),
  PAYMENT_ADDRESS: z
    .string()
    .trim()
    .regex(/^(0x[0-9a-fA-F]{40})?$/, "expected an EVM address (0x and 40 hex digits)")
    .default(""),
  X402_NETWORK: z
    .enum(NETWORK_NAMES, { message: `expected one of ${NETWORK_NAMES.join(", ")}` })
    .default("local"),
  /** Several networks at once (e.g. `local,solana-local`): every 402 lists each; the first is the primary. */
  X402_NETWORKS: list([]).pipe(
    z.array(z.enum(NETWORK_NAMES, { message: `expected networks among ${NETWORK_NAMES.join(", ")}` })),
  ),
  /** Where Solana payments go for robots that name no Solana address of their own. */
  SOLANA_PAYMENT_ADDRESS: solanaAddress,
  /** The Solana JSON-RPC the server reads transfers from (default: the cluster's public one). */
  SOLANA_RPC_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional(),
  ),
  /** solana-local against a devchain already running: its test USDC mint (`npm run devchain` prints it). */
  SOLANA_USDC_MINT: solanaAddress,
  /** How settled a Solana transfer must be before /api/payments/verify accepts it. */
  SOLANA_COMMITMENT: z.enum(["confirmed", "finalized"]).default("confirmed"),
  FACILITATOR_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional(),
  ),
  EVM_RPC_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional(),
  ),
  // Unfinished payments older than this are finished by recovery (at start and every minute).
  PAYMENT_RECOVERY_GRACE_MS: int(60_000, 0, 86_400_000),
  /** Test-only: the process kills itself at this step of a paid purchase, to prove recovery. */
  ROBO402_CRASH_AFTER: z.enum(["verify", "lock", "settle", "session"]).optional(),

  SESSION_DURATION_MINUTES: z.coerce
    .number({ message: "expected a number of minutes" })
    .positive("expected a positive number of minutes")
    .max(24 * 60, "expected at most 1440 minutes")
    .default(10),
  SESSION_PRICE: z
    .string()
    .trim()
    .regex(/^\$\d+(\.\d{1,6})?$/, "expected a dollar price like $0.10")
    .default("$0.10"),

  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL")
      .optional(),
  ),
  DATA_DIR: z.string().trim().min(1).default("./data"),
  REDIS_URL: optionalText.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, "expected a redis:// URL")
      .optional(),
  ),
  REDIS_PREFIX: z.string().default("robo402:"),

  ROBOTS: z.string().trim().default(""),
  ROBOTS_FILE: optionalText,
  SIMULATED_ROBOTS: list(["finland-tumbller-01", "finland-tumbller-02"]),
  /** Simulated velocity rovers (robot-sim --velocity), e.g. finland-rover-01: driven with {linear, angular}. */
  SIMULATED_VELOCITY_ROBOTS: list([]),
  /** Simulated robots that dial in over the robot link once the server listens (main.ts), as a real one would. */
  SIMULATED_LINK_ROBOTS: list(["finland-tumbller-03"]),

  ROBOT_TIMEOUT_MS: int(3000, 50, 60_000),
  CAMERA_TIMEOUT_MS: int(3000, 50, 60_000),
  // The camera firmware answers 503 to a second request within 100 ms, so never poll faster; 5 ms more
  // absorb the network's jitter and still give every viewer ~9.5 frames a second.
  CAMERA_INTERVAL_MS: int(105, 100, 60_000),
  DEADMAN_MS: int(1500, 100, 60_000),
  STOP_RETRY_ATTEMPTS: int(10, 1, 1000),
  STOP_RETRY_MAX_DELAY_MS: int(5000, 10, 600_000),
  SESSION_SWEEP_MS: int(500, 10, 60_000),
  /**
   * How often a robot nobody holds is asked whether it answers (unless something else asked it lately).
   * A 402 trusts an answer twice this old, so a buyer's quote neither waits on the robot nor names a
   * price for one that went away minutes ago.
   */
  ROBOT_HEARTBEAT_MS: int(5000, 100, 60_000),

  // ——— Marketplace: accounts, pay-per-call ———
  /** Signs access tokens; without it a secret is made once and kept in the database (shared by instances). */
  JWT_SECRET: optionalText.pipe(z.string().min(32, "expected at least 32 characters").optional()),
  JWT_TTL_MINUTES: int(60, 1, 60 * 24 * 30),
  /**
   * The first admin, created at start while its email is free. An existing account is never promoted
   * (anyone may have registered the email): `npm run admin -- create EMAIL` is the operator's way.
   */
  ADMIN_EMAIL: optionalText.pipe(z.email("expected an email address").optional()),
  ADMIN_PASSWORD: optionalText.pipe(z.string().min(8, "expected at least 8 characters").optional()),
  /** A 402's payment session stays payable this long (the plan's 15 minutes). */
  PAYMENT_SESSION_MINUTES: int(15, 1, 24 * 60),
  EXECUTE_TIMEOUT_MS: int(10_000, 100, 120_000),
  EXECUTE_MAX_RESPONSE_BYTES: int(1_048_576, 1024, 50 * 1_048_576),
  /** Calls to /api/execute/* per minute, per account (or per IP without one). */
  EXECUTE_RATE_LIMIT: int(10, 1, 100_000),
  // What costs the server an argon2 hash or chain calls is limited per minute, shared by every instance.
  /** Logins per minute from one client address, and (counted apart) for one email from anywhere. */
  LOGIN_RATE_LIMIT: int(10, 1, 1_000_000),
  /** Sign-ups per minute from one client address. */
  REGISTER_RATE_LIMIT: int(20, 1, 1_000_000),
  /** POST /api/v1/access/purchase per minute from one client address (an unpaid 402 and its paid retry: 2). */
  PURCHASE_RATE_LIMIT: int(30, 1, 1_000_000),
  /** Robot link attempts (GET /api/v1/link) per minute from one client address, accepted or not. */
  LINK_RATE_LIMIT: int(30, 1, 1_000_000),
  /** POST /api/payments/verify per minute from one client address, and (counted apart) per account. */
  VERIFY_RATE_LIMIT: int(60, 1, 1_000_000),
  /** Blocks a transfer needs, its own included, before /api/payments/verify accepts it (1: mined is enough). */
  VERIFY_CONFIRMATIONS: int(1, 1, 1000),
  /**
   * Private networks (CIDR) robot owners may point robots at. Loopback, private, link-local and metadata
   * addresses are refused otherwise: a robot's endpoint must not reach into the server's own network.
   */
  ROBOT_NETWORKS_ALLOWED: list([]),
  /** Starts the simulated service robots (`snapshot`, `data-analysis`) and registers them. */
  SIMULATED_SERVICES: bool(true),
});

/**
 * A sign-in names the site it is for, and the server must know its own name to check it: on a public
 * network, where sign-ins reach paid sessions, that name cannot be guessed, so it must be given.
 */
const Checked = EnvSchema.superRefine((env, ctx) => {
  const networks = env.X402_NETWORKS.length ? env.X402_NETWORKS : [env.X402_NETWORK];
  // Off this machine's own chains, strangers pay and sign in from the internet.
  const remote = networks.filter((network) => !PAYMENT_NETWORKS[network].local);
  if (env.PAYMENT_ENABLED && remote.length > 0 && !env.PUBLIC_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["PUBLIC_URL"],
      message: `required in paid mode on ${remote.join(", ")}: sign-ins (SIGN-IN-WITH-X, SIWE) are bound to it, never to a request's Host; set it to the origin clients use, e.g. https://robots.example.com`,
    });
  }
});

export type Config = z.infer<typeof EnvSchema>;
export type Network = NetworkName;

/** The origins sign-ins may name: PUBLIC_URL, else this server's own on loopback (localhost or 127.0.0.1). */
export function signInOrigins(config: Pick<Config, "PUBLIC_URL" | "PORT">): string[] {
  if (config.PUBLIC_URL) return [config.PUBLIC_URL];
  return [`http://localhost:${config.PORT}`, `http://127.0.0.1:${config.PORT}`];
}

/** Whether the configuration asks for any simulated robot (dev/ runs them). */
export const simulates = (
  config: Pick<
    Config,
    "SIMULATED_ROBOTS" | "SIMULATED_VELOCITY_ROBOTS" | "SIMULATED_SERVICES" | "SIMULATED_LINK_ROBOTS"
  >,
): boolean =>
  config.SIMULATED_ROBOTS.length > 0 ||
  config.SIMULATED_VELOCITY_ROBOTS.length > 0 ||
  config.SIMULATED_SERVICES ||
  config.SIMULATED_LINK_ROBOTS.length > 0;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the configuration once, at the edge. A bad value throws one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = Checked.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    const got = env[name];
    return `${name}: ${issue.message}${got === undefined ? "" : ` (got '${got}')`}`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
}
