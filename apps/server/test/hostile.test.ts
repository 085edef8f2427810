import { Readable } from "node:stream";
import { type Devchain, startDevchain } from "@robo402/devchain";
import fc from "fast-check";
import { request as httpRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configuredId } from "../src/robots/catalog.ts";
import { localChainEnv, startTestPlatform, type TestPlatform } from "./helpers.ts";
import { listen } from "./listen.ts";

// Hostile input, generated: every route of both plans under random methods, ids, query strings, headers
// (payment headers, tokens, sign-ins, wallets, session ids) and bodies (any JSON, garbage, odd encodings).
// What must hold for every one of them: no 5xx, no hang, and every refusal a JSON `detail` a person can
// read. Paid mode on the real local chain, so payment headers reach x402 and the facilitator for real.
let chain: Devchain;
let t: TestPlatform;

beforeAll(async () => {
  chain = await startDevchain();
  t = await startTestPlatform({
    env: {
      ...localChainEnv(chain),
      SIMULATED_SERVICES: "true",
      EXECUTE_RATE_LIMIT: "100000",
    },
  });
});
afterAll(async () => {
  await t?.close();
  await chain?.close();
});

const UUID = "7f1c2a0e-3b5d-4c6e-8f90-a1b2c3d4e5f6";
// Each route with the method it answers (most requests), so the generated input reaches its handler.
const ROUTES: Array<[string, string]> = [
  ["GET", "/health"],
  ["GET", "/health/ready"],
  ["POST", "/api/v1/access/purchase"],
  ["GET", "/api/v1/access/status"],
  ["GET", "/api/v1/access/config"],
  ["POST", "/api/v1/access/release"],
  ["GET", "/api/v1/robot/motor/{x}"],
  ["GET", "/api/v1/robot/camera/frame"],
  ["GET", "/api/v1/robot/status"],
  ["GET", "/api/v1/robots"],
  ["POST", "/api/auth/register"],
  ["POST", "/api/auth/login"],
  ["GET", "/api/auth/me"],
  ["POST", "/api/auth/wallet/nonce"],
  ["POST", "/api/auth/wallet"],
  ["GET", "/api/robots"],
  ["POST", "/api/robots"],
  ["GET", "/api/robots/{x}"],
  ["PATCH", "/api/robots/{x}"],
  ["GET", "/api/robots/{x}/metrics"],
  ["POST", "/api/execute/{x}"],
  ["POST", "/api/payments/verify"],
  ["GET", "/api/payments"],
  ["GET", "/api/executions"],
  ["GET", "/api/admin/users"],
  ["PATCH", "/api/admin/users/{x}"],
  ["POST", "/api/admin/robots/{x}/suspend"],
  ["GET", "/api/admin/payments"],
  ["GET", "/ws/session/{x}"],
  ["GET", "/{x}"],
];

// Header values as HTTP can carry them: visible ASCII and spaces, no line breaks.
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const base64Of = (value: fc.Arbitrary<unknown>) =>
  value.map((v) => Buffer.from(JSON.stringify(v) ?? "").toString("base64"));
// A robot that exists (npm start's simulated analyst), so calls get past "not found" into payment.
const ANALYST = configuredId("sim-data-analysis");
const pathPart = fc.oneof(
  fc.constant(ANALYST),
  fc.constant(UUID),
  fc.uuid(),
  fc.constantFrom("forward", "stop", "..", "%2e%2e", "%00", "finland-tumbller-01", "a".repeat(3000)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);
const query = fc.dictionary(
  fc.constantFrom(
    "robot_host",
    "service",
    "category",
    "mine",
    "scope",
    "limit",
    "offset",
    "q",
    "role",
    "status",
    "robot_id",
    "x",
  ),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("-1", "1e309", "true", "admin", UUID, "finland-tumbller-01"),
  ),
  { maxKeys: 4 },
);
const headers = fc
  .tuple(
    fc.record(
      {
        authorization: fc.oneof(
          headerText,
          headerText.map((s) => `Bearer ${s}`),
          fc.constant("Bearer a.b.c"),
        ),
        "payment-signature": fc.oneof(
          headerText,
          base64Of(fc.jsonValue()),
          base64Of(
            fc.record({
              x402Version: fc.constantFrom(1, 2, 3),
              accepted: fc.jsonValue(),
              payload: fc.jsonValue(),
            }),
          ),
        ),
        "x-payment": fc.oneof(headerText, base64Of(fc.jsonValue())),
        "sign-in-with-x": fc.oneof(headerText, base64Of(fc.jsonValue())),
        "x-wallet-address": fc.oneof(headerText, fc.constant("0x0000000000000000000000000000000000000001")),
        "x-session-id": fc.oneof(headerText, fc.uuid()),
        "content-type": fc.oneof(
          { arbitrary: fc.constant("application/json"), weight: 6 },
          fc.constantFrom(
            "application/json",
            "application/json; charset=latin1",
            "text/plain",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
          ),
        ),
      },
      { requiredKeys: [] },
    ),
    // Most requests carry one or two of these, not all: a bad token would hide everything behind a 401.
    fc.subarray(
      [
        "authorization",
        "payment-signature",
        "x-payment",
        "sign-in-with-x",
        "x-wallet-address",
        "x-session-id",
      ],
      {
        maxLength: 2,
      },
    ),
  )
  .map(([all, chosen]) =>
    Object.fromEntries(
      Object.entries(all).filter(([name]) => name === "content-type" || chosen.includes(name)),
    ),
  );
// Plausible bodies too, so requests get past validation into payment and the robots.
const plausible = fc.oneof(
  fc.record({ robot_host: fc.constantFrom("finland-tumbller-01", "FINLAND-TUMBLLER-02", "169.254.169.254") }),
  fc.record({
    service: fc.constant("data-analysis"),
    input: fc.record({ values: fc.array(fc.double(), { maxLength: 20 }) }),
  }),
  fc.record({
    session_id: fc.uuid(),
    tx_signature: fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
      fc.string(),
    ),
  }),
);
const body = fc.oneof(
  plausible.map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        robot_host: fc.jsonValue(),
        email: fc.jsonValue(),
        password: fc.jsonValue(),
        service: fc.jsonValue(),
        input: fc.jsonValue(),
        session_id: fc.jsonValue(),
        tx_signature: fc.jsonValue(),
        role: fc.jsonValue(),
        price: fc.jsonValue(),
        endpoint: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
  fc.constant(undefined),
);

const request = fc.record({
  target: fc.constantFrom(...ROUTES),
  // Now and then a method the route does not answer.
  otherMethod: fc.oneof(
    { arbitrary: fc.constant(null), weight: 4 },
    { arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"), weight: 1 },
  ),
  part: pathPart,
  query,
  headers,
  body,
});

type HostileRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function send(r: HostileRequest) {
  const [usual, route] = r.target;
  const method = r.otherMethod ?? usual;
  const path = route.replace("{x}", r.part);
  const search = new URLSearchParams(r.query as Record<string, string>).toString();
  const init: RequestInit = { method, headers: r.headers as Record<string, string> };
  if (r.body !== undefined && !["GET", "OPTIONS"].includes(method)) init.body = r.body;
  const answer = t.platform.app.request(`${path}${search ? `?${search}` : ""}`, init);
  // A hang is a failure too: every answer must come in seconds, whatever was sent.
  return Promise.race([
    Promise.resolve(answer),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer to ${method} ${path}`)), 15_000),
    ),
  ]);
}

describe("hostile input over every route", () => {
  it("never a 5xx, never a hang; every refusal says why in JSON", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const response = await send(r);
        const what = `${r.otherMethod ?? r.target[0]} ${r.target[1]}`;
        expect(response.status, what).toBeLessThan(500);
        if (response.status >= 400 && response.status !== 405) {
          const text = await response.text();
          const parsed = JSON.parse(text) as { detail?: unknown };
          expect(parsed.detail, `${what} → ${response.status}: ${text.slice(0, 200)}`).toBeTruthy();
        } else {
          await response.body?.cancel();
        }
      }),
      {
        numRuns: Number(process.env.HOSTILE_RUNS ?? 400),
        seed: Number(process.env.HOSTILE_SEED ?? Date.now() % 2 ** 31),
      },
    );
  });

  it("payment headers, however malformed, on the paid routes: a 400 or 402 with the reason, never a 5xx", async () => {
    const accepted = fc.record(
      {
        scheme: fc.oneof(fc.constant("exact"), fc.string()),
        network: fc.oneof(
          fc.constant("eip155:31337"),
          fc.constant("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
          fc.string(),
        ),
        amount: fc.oneof(fc.constant("50000"), fc.string(), fc.integer().map(String)),
        asset: fc.oneof(fc.constant(chain.token.address), fc.string()),
        payTo: fc.string(),
        maxTimeoutSeconds: fc.integer(),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.record(
      {
        x402Version: fc.constantFrom(1, 2, 3),
        accepted,
        payload: fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              signature: fc.string(),
              authorization: fc.record(
                {
                  from: fc.string(),
                  to: fc.string(),
                  value: fc.string(),
                  validAfter: fc.string(),
                  validBefore: fc.string(),
                  nonce: fc.string(),
                },
                { requiredKeys: [] },
              ),
              transaction: fc.string(),
            },
            { requiredKeys: [] },
          ),
        ),
        extensions: fc.jsonValue(),
      },
      { requiredKeys: ["x402Version"] },
    );
    const header = fc.oneof(
      payload.map((p) => Buffer.from(JSON.stringify(p)).toString("base64")),
      headerText,
    );
    const target = fc.constantFrom(
      ["/api/v1/access/purchase", JSON.stringify({ robot_host: "finland-tumbller-01" })],
      [`/api/execute/${ANALYST}`, JSON.stringify({ service: "data-analysis", input: { values: [1, 2] } })],
    );
    await fc.assert(
      fc.asyncProperty(
        target,
        header,
        fc.constantFrom("payment-signature", "x-payment"),
        async ([path, json], value, name) => {
          const response = await t.platform.app.request(path, {
            method: "POST",
            headers: { "content-type": "application/json", [name]: value },
            body: json,
          });
          const text = await response.text();
          expect(response.status, text.slice(0, 300)).toBeGreaterThanOrEqual(400);
          expect(response.status, text.slice(0, 300)).toBeLessThan(500);
          expect((JSON.parse(text) as { detail?: unknown }).detail, text.slice(0, 300)).toBeTruthy();
        },
      ),
      { numRuns: Number(process.env.HOSTILE_RUNS ?? 400) },
    );
  });

  it("an oversized body is 413 on every route that takes one, and is not read further", async () => {
    const huge = JSON.stringify({ input: "x".repeat(200_000) });
    for (const path of [
      "/api/v1/access/purchase",
      "/api/auth/register",
      "/api/robots",
      `/api/execute/${UUID}`,
      "/api/payments/verify",
    ]) {
      const response = await t.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: huge,
      });
      expect({ path, status: response.status }).toEqual({ path, status: 413 });
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^Request body too large/);
    }
  });

  it("over HTTP, an oversized body is 413 whether it announces its length or comes chunked", async () => {
    const server = await listen((incoming, env) => t.platform.app.fetch(incoming, env as object));
    try {
      const huge = JSON.stringify({ robot_host: "x".repeat(200_000) });
      const send = async (method: string, headers: Record<string, string>, body: Uint8Array | Readable) => {
        const response = await httpRequest(`${server.url}/api/v1/access/purchase`, { method, headers, body });
        return { status: response.statusCode, body: (await response.body.json()) as { detail: string } };
      };
      const chunked = () => Readable.from([huge.slice(0, 1000), huge.slice(1000)]);
      for (const answer of [
        await send("POST", { "content-type": "application/json" }, Buffer.from(huge)),
        await send("POST", { "content-type": "application/json" }, chunked()),
      ]) {
        expect(answer.status).toBe(413);
        expect(answer.body.detail).toMatch(/^Request body too large/);
      }
    } finally {
      await server.close();
    }
  });

  it("every answer carries the security headers", async () => {
    for (const path of ["/health", "/api/robots", "/api/v1/access/config", "/nowhere"]) {
      const response = await t.request(path);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(response.headers.get("strict-transport-security")).toMatch(/max-age=/);
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      await response.body?.cancel();
    }
  });
});
