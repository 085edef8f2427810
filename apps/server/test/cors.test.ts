import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./helpers.ts";

// The default CORS_ORIGINS: the web app's dev servers.
const WEB = "http://localhost:5173";
const STRANGER = "https://evil.example";

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ robots: ["finland-tumbller-01"] });
});
afterAll(async () => {
  await t?.close();
});

const preflight = (origin: string) =>
  t.request("/api/v1/access/purchase", {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,payment-signature",
    },
  });

describe("CORS for the configured origins", () => {
  it("a preflight from an allowed origin may send a payment with credentials", async () => {
    const response = await preflight(WEB);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(WEB);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toBe("content-type,payment-signature");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("a preflight from any other origin is allowed nothing", async () => {
    const response = await preflight(STRANGER);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("an answer to an allowed origin lets its script read the payment headers; its body is intact", async () => {
    const response = await t.request("/api/v1/access/config", { headers: { origin: WEB } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(WEB);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("access-control-expose-headers")).toContain("PAYMENT-REQUIRED");
    expect(response.headers.get("vary")).toContain("Origin");
    expect(await response.json()).toMatchObject({ payment_enabled: false });
  });

  it("an answer to another origin, or to no browser, names no origin but varies by it", async () => {
    for (const headers of [{ origin: STRANGER }, {}] as Record<string, string>[]) {
      const response = await t.request("/api/v1/access/config", { headers });
      expect(response.status).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("vary")).toContain("Origin");
      await response.body?.cancel();
    }
  });
});
