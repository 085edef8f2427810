import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig, signInOrigins } from "../src/config.ts";

describe("configuration", () => {
  it("needs nothing: paid mode on the local chain, the plan's price, two simulated robots", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8000,
      PAYMENT_ENABLED: true,
      X402_NETWORK: "local",
      SESSION_DURATION_MINUTES: 10,
      SESSION_PRICE: "$0.10",
      DEADMAN_MS: 1500,
      SIMULATED_ROBOTS: ["finland-tumbller-01", "finland-tumbller-02"],
      CORS_ORIGINS: ["http://localhost:5173", "http://localhost:3000"],
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it("reads lists as JSON (the plan's .env) or comma-separated", () => {
    expect(loadConfig({ CORS_ORIGINS: '["http://a.test","http://b.test"]' }).CORS_ORIGINS).toEqual([
      "http://a.test",
      "http://b.test",
    ]);
    expect(loadConfig({ SIMULATED_ROBOTS: "a, b" }).SIMULATED_ROBOTS).toEqual(["a", "b"]);
    expect(loadConfig({ SIMULATED_ROBOTS: "" }).SIMULATED_ROBOTS).toEqual([]);
  });

  it.each([
    [{ PAYMENT_ENABLED: "maybe" }, "PAYMENT_ENABLED: expected true or false, got 'maybe'"],
    [{ PORT: "eighty" }, "PORT: expected a whole number (got 'eighty')"],
    [{ CAMERA_INTERVAL_MS: "50" }, "CAMERA_INTERVAL_MS: expected at least 100 (got '50')"],
    [{ SESSION_PRICE: "10 cents" }, "SESSION_PRICE: expected a dollar price like $0.10 (got '10 cents')"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL: expected a postgres:// URL (got 'mysql://x')"],
    [
      { X402_NETWORK: "ethereum" },
      "X402_NETWORK: expected one of local, base-sepolia, base, solana-devnet, solana",
    ],
  ])("refuses %o with a line naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("needs PUBLIC_URL in paid mode on a public network; on the local chains sign-ins name the server itself", () => {
    const required = "PUBLIC_URL: required in paid mode on base-sepolia: sign-ins (SIGN-IN-WITH-X, SIWE)";
    expect(() => loadConfig({ X402_NETWORK: "base-sepolia" })).toThrow(required);
    expect(() => loadConfig({ X402_NETWORKS: "local,solana-devnet" })).toThrow(
      "PUBLIC_URL: required in paid mode on solana-devnet",
    );
    expect(() => loadConfig({ X402_NETWORK: "base", PAYMENT_ENABLED: "false" })).not.toThrow();
    const behindProxy = loadConfig({ X402_NETWORK: "base", PUBLIC_URL: "https://robots.example.com" });
    expect(signInOrigins(behindProxy)).toEqual(["https://robots.example.com"]);
    expect(signInOrigins(loadConfig({ PORT: "9000", X402_NETWORKS: "local,solana-local" }))).toEqual([
      "http://localhost:9000",
      "http://127.0.0.1:9000",
    ]);
  });

  it("a bad value stops the server with one line", () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", main], {
      env: { ...process.env, DEADMAN_MS: "soon", DATABASE_URL: "", REDIS_URL: "" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "Invalid configuration: DEADMAN_MS: expected a whole number (got 'soon')",
    );
  });
});
