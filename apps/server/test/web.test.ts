import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Robo402Client } from "@robo402/client";
import { type Devchain, startDevchain } from "@robo402/devchain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webRoutes } from "../src/http/web.ts";
import { startTestPlatform, type TestPlatform } from "./helpers.ts";

const ROBOT = "finland-tumbller-01";
const ALICE = "0xa11ce00000000000000000000000000000001234";

/** Reads a multipart stream until it has carried one JPEG part, then hangs up. */
async function firstPart(response: Response): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let received = "";
  while (!received.includes("\r\n\r\n\xff\xd8")) {
    const { value, done } = await reader.read();
    if (done) break;
    received += Buffer.from(value).toString("latin1");
  }
  await reader.cancel();
  return received;
}

const detail = async (response: Response) => ((await response.json()) as { detail: string }).detail;

describe("the camera stream takes its credential from the URL (an <img> sends no headers)", () => {
  let chain: Devchain;
  let t: TestPlatform | undefined;
  beforeAll(async () => {
    chain = await startDevchain();
  });
  afterAll(async () => {
    await chain?.close();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("paid mode: ?token= opens the stream; a wrong token is a 401; other routes ignore ?token=", async () => {
    t = await startTestPlatform({
      env: {
        PAYMENT_ENABLED: "true",
        X402_NETWORK: "local",
        FACILITATOR_URL: chain.facilitatorUrl,
        EVM_RPC_URL: chain.rpcUrl,
        PAYMENT_ADDRESS: chain.accounts[8]?.address ?? "",
      },
    });
    const platform = t;
    const client = new Robo402Client({
      baseUrl: "http://robo402.test",
      privateKey: chain.accounts[1]?.privateKey,
      fetch: async (input, init) => platform.platform.app.request(new Request(input, init)),
    });
    await client.buy(ROBOT);
    const token = client.token ?? expect.unreachable();

    const stream = await t.request(`/api/v1/robot/camera/stream?token=${token}`);
    expect(stream.status).toBe(200);
    expect(await firstPart(stream)).toContain("Content-Type: image/jpeg");

    const wrong = await t.request(`/api/v1/robot/camera/stream?token=${"x".repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(await detail(wrong)).toBe("Session token is unknown or its session has ended.");

    const motor = await t.request(`/api/v1/robot/motor/forward?token=${token}`);
    expect(motor.status).toBe(401);
    expect(await detail(motor)).toMatch(/^Session token required/);
  });

  it("free mode: ?wallet= opens the stream of that wallet's session", async () => {
    t = await startTestPlatform();
    expect((await t.purchase(ALICE, ROBOT)).status).toBe(200);
    const stream = await t.request(`/api/v1/robot/camera/stream?wallet=${ALICE}`);
    expect(stream.status).toBe(200);
    expect(await firstPart(stream)).toContain("Content-Type: image/jpeg");
    const nobody = await t.request(
      "/api/v1/robot/camera/stream?wallet=0xb0b0000000000000000000000000000000000001",
    );
    expect(nobody.status).toBe(403);
  });
});

describe("webRoutes: the portals' files, and index.html for client-side routes", () => {
  const dir = mkdtempSync(join(tmpdir(), "robo402-web-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>portal</title>");
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log('app')");
  writeFileSync(join(dir, "favicon.svg"), "<svg/>");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const web = webRoutes(dir);

  it("a reload on a client-side route gets index.html", async () => {
    for (const path of ["/", "/robots/abc", "/dashboard/robots/new", "/admin"]) {
      const response = await web.request(path);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain("<title>portal</title>");
    }
  });

  it("serves built files, hashed assets as immutable", async () => {
    const asset = await web.request("/assets/index-abc123.js");
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe("console.log('app')");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(await (await web.request("/favicon.svg")).text()).toBe("<svg/>");
  });

  it("never answers for the API, the docs, health or sockets, and never leaves its folder", async () => {
    for (const path of [
      "/api/v1/nope",
      "/api/robots/x",
      "/ws/session/1",
      "/docs",
      "/openapi.json",
      "/health",
    ]) {
      expect((await web.request(path)).status, path).toBe(404);
    }
    const traversal = await web.request("/assets/..%2f..%2fetc%2fpasswd");
    expect(await traversal.text()).not.toContain("root:");
  });

  it("without a build it answers nothing, so the API's own 404 stands", async () => {
    const empty = webRoutes(join(dir, "missing"));
    expect((await empty.request("/robots/abc")).status).toBe(404);
  });
});
