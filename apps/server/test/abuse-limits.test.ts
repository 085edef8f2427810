import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./helpers.ts";

// The Redis test runs only with REDIS_URL set (CI sets it); without it it is reported skipped.
const REDIS_URL = process.env.REDIS_URL;
const PASSWORD = "long-enough-password";
// Low limits, and X-Forwarded-For trusted so one process can play many client addresses.
const LIMITS = {
  TRUST_PROXY: "true",
  LOGIN_RATE_LIMIT: "3",
  REGISTER_RATE_LIMIT: "2",
  PURCHASE_RATE_LIMIT: "2",
  VERIFY_RATE_LIMIT: "2",
};

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ env: LIMITS });
});
afterAll(async () => {
  await t?.close();
});

const post = (on: TestPlatform, path: string, address: string, body: unknown, token?: string) =>
  on.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": address,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

const login = (address: string, email: string, password = "not the password", on = t) =>
  post(on, "/api/auth/login", address, { email, password });

/** Asserts a 429 whose Retry-After the sentence repeats, and returns the sentence. */
async function refusal(response: Response): Promise<string> {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const { detail } = (await response.json()) as { detail: string };
  expect(detail).toMatch(new RegExp(`; retry in ${retryAfter} s\\.$`));
  return detail;
}

describe("abuse limits (per minute, shared through the Kv)", () => {
  it("the (N+1)th login from one address is a 429 with Retry-After; another address still logs in", async () => {
    expect(
      (await post(t, "/api/auth/register", "10.1.0.9", { email: "ada@example.com", password: PASSWORD }))
        .status,
    ).toBe(201);
    for (let i = 0; i < 3; i++) expect((await login("10.1.0.1", `nobody${i}@example.com`)).status).toBe(401);
    // The right password too: the address has used its attempts.
    const refused = await login("10.1.0.1", "ada@example.com", PASSWORD);
    expect(await refusal(refused)).toMatch(
      /^Too many requests: at most 3 per minute on \/api\/auth\/login from this address; retry in/,
    );
    expect((await login("10.1.0.2", "ada@example.com", PASSWORD)).status).toBe(200);
  });

  it("logins for one email are limited however many addresses they come from (credential stuffing)", async () => {
    for (let i = 0; i < 3; i++) expect((await login(`10.2.0.${i}`, "victim@example.com")).status).toBe(401);
    // The same account whatever the capitals and spaces: login compares it so.
    expect(await refusal(await login("10.2.1.1", "  Victim@Example.COM"))).toMatch(
      /^Too many requests: at most 3 per minute on \/api\/auth\/login for this email;/,
    );
    expect((await login("10.2.1.1", "bystander@example.com")).status).toBe(401);
  });

  it("the (N+1)th sign-up from one address is a 429", async () => {
    for (let i = 0; i < 2; i++) {
      const response = await post(t, "/api/auth/register", "10.3.0.1", {
        email: `new${i}@example.com`,
        password: PASSWORD,
      });
      expect(response.status).toBe(201);
    }
    const refused = await post(t, "/api/auth/register", "10.3.0.1", {
      email: "new2@example.com",
      password: PASSWORD,
    });
    expect(await refusal(refused)).toMatch(/on \/api\/auth\/register from this address;/);
  });

  it("the (N+1)th purchase from one address is a 429, before the robot is touched", async () => {
    const buy = (address: string, wallet: string) =>
      t.request("/api/v1/access/purchase", {
        method: "POST",
        wallet,
        headers: { "content-type": "application/json", "x-forwarded-for": address },
        body: JSON.stringify({ robot_host: "finland-tumbller-01" }),
      });
    const wallet = `0x${"4".repeat(40)}`;
    for (let i = 0; i < 2; i++) expect((await buy("10.4.0.1", wallet)).status).not.toBe(429);
    expect(await refusal(await buy("10.4.0.1", wallet))).toMatch(
      /on \/api\/v1\/access\/purchase from this address;/,
    );
    expect((await buy("10.4.0.2", wallet)).status).not.toBe(429);
  });

  it("verify is limited per address, and per account across addresses", async () => {
    const verify = (address: string, token?: string) =>
      post(
        t,
        "/api/payments/verify",
        address,
        { session_id: randomUUID(), tx_signature: `0x${"ab".repeat(32)}` },
        token,
      );
    for (let i = 0; i < 2; i++) expect((await verify("10.5.0.1")).status).not.toBe(429);
    expect(await refusal(await verify("10.5.0.1"))).toMatch(/on \/api\/payments\/verify from this address;/);

    const registered = await post(t, "/api/auth/register", "10.5.1.9", {
      email: "verifier@example.com",
      password: PASSWORD,
    });
    const { access_token } = (await registered.json()) as { access_token: string };
    for (let i = 0; i < 2; i++) expect((await verify(`10.5.1.${i}`, access_token)).status).not.toBe(429);
    expect(await refusal(await verify("10.5.1.5", access_token))).toMatch(
      /on \/api\/payments\/verify for this account;/,
    );
  });

  it.skipIf(!REDIS_URL)("holds across two instances sharing Redis (needs REDIS_URL)", async () => {
    const shared = { ...LIMITS, REDIS_URL: REDIS_URL ?? "", REDIS_PREFIX: `robo402-test-${randomUUID()}:` };
    const [one, two] = await Promise.all([
      startTestPlatform({ env: shared }),
      startTestPlatform({ env: shared }),
    ]);
    try {
      expect((await login("10.6.0.1", "a@example.com", undefined, one)).status).toBe(401);
      expect((await login("10.6.0.1", "b@example.com", undefined, two)).status).toBe(401);
      expect((await login("10.6.0.1", "c@example.com", undefined, one)).status).toBe(401);
      expect(await refusal(await login("10.6.0.1", "d@example.com", undefined, two))).toMatch(
        /from this address;/,
      );
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
