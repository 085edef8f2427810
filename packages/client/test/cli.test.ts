import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type ServerType, serve } from "@hono/node-server";
import { type Devchain, startDevchain } from "@robo402/devchain";
import type { PurchaseResponse } from "@robo402/protocol";
import type { Address } from "@solana/kit";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { Hono } from "hono";
import { afterAll, beforeAll, expect, it } from "vitest";

// The CLI as a person runs it, paying on Solana, when the Solana RPC it was given is not there. The
// platform here is the x402 middleware in front of the purchase route, on the devchain's facilitator:
// the 402 is a real one, and only the Solana RPC changes from test to test.
const CLI = fileURLToPath(new URL("../bin/robo402.js", import.meta.url));
const PRICE = 100_000n;

let devchain: Devchain;
let platform: ServerType;
let platformUrl: string;
let failingRpc: Server;
let failingRpcUrl: string;
let closedUrl: string;
let home: string;

beforeAll(async () => {
  devchain = await startDevchain();
  const { solana } = devchain;
  const resourceServer = new x402ResourceServer(
    new HTTPFacilitatorClient({ url: devchain.facilitatorUrl }),
  ).register(solana.network, new ExactSvmScheme());
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "POST /api/v1/access/purchase": {
          accepts: {
            scheme: "exact",
            network: solana.network,
            payTo: payee(),
            price: { amount: PRICE.toString(), asset: solana.mint },
          },
          description: "ten minutes on a robot",
        },
      },
      resourceServer,
    ),
  );
  app.post("/api/v1/access/purchase", (c) =>
    c.json({
      status: "granted",
      message: "Access granted to 'finland-tumbller-01' for 10 minutes",
      session: { active: true, robot_host: "finland-tumbller-01", token: "t" },
      payment_tx: null,
    } satisfies PurchaseResponse),
  );
  platformUrl = await new Promise<string>((resolve) => {
    platform = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
  });
  // A Solana RPC that is up but failing (a proxy in front of a node that is down).
  failingRpc = createServer((_, response) => response.writeHead(503).end("node unavailable"));
  failingRpcUrl = await listening(failingRpc);
  // A port nothing listens on.
  const closed = createServer();
  closedUrl = await listening(closed);
  await new Promise((resolve) => closed.close(resolve));
  home = mkdtempSync(join(tmpdir(), "robo402-cli-solana-"));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (platform ? platform.close(() => resolve()) : resolve()));
  failingRpc?.close();
  await devchain?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const payer = () => devchain.solana.accounts[2] ?? expect.unreachable();
const payee = () => (devchain.solana.accounts[8] ?? expect.unreachable()).address;

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Runs the CLI; a failure resolves to its exit code and stderr. */
async function robo402(...args: string[]) {
  return promisify(execFile)(process.execPath, [CLI, ...args], {
    env: { ...process.env, ROBO402_HOME: home, ROBO402_SOLANA_RPC: "", ROBO402_SERVER: "" },
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const buy = (server: string, rpc: string) =>
  robo402(
    "buy",
    "finland-tumbller-01",
    "--server",
    server,
    "--solana-key",
    payer().secretKey,
    "--solana-rpc",
    rpc,
  );

const balance = () => devchain.solana.runtime.balanceOf(payer().address as Address);

it("a Solana RPC on a closed port: names that RPC's URL and that it did not answer, not the platform; nothing is paid", async () => {
  const before = await balance();
  const failed = await buy(platformUrl, closedUrl);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toBe(
    `robo402: the Solana RPC at ${closedUrl} did not answer (ECONNREFUSED), so nothing was paid (the platform at ${platformUrl} answered). Point --solana-rpc (or ROBO402_SOLANA_RPC) at a running Solana RPC: the one the server's start log names, or \`npm run devchain\`'s.\n`,
  );
  expect(failed.stderr).not.toMatch(/cannot reach/);
  expect(await balance()).toBe(before);
});

it("a Solana RPC that answers with an HTTP error is named with its status", async () => {
  const failed = await buy(platformUrl, failingRpcUrl);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(
    new RegExp(`^robo402: the Solana RPC at ${failingRpcUrl} answered HTTP 503, so nothing was paid`),
  );
});

it("with the devchain's Solana RPC the same purchase is paid: the failures above were the RPC's alone", async () => {
  const before = await balance();
  const bought = await buy(platformUrl, devchain.solana.rpcUrl);
  expect(bought).toMatchObject({ code: 0 });
  expect(bought.stdout).toMatch(/^Access granted to 'finland-tumbller-01' for 10 minutes\n/);
  expect(await balance()).toBe(before - PRICE);
});

it("a platform that does not answer is still named as the one that cannot be reached", async () => {
  const failed = await buy(closedUrl, devchain.solana.rpcUrl);
  expect(failed).toMatchObject({ code: 1, stderr: `robo402: cannot reach ${closedUrl}: ECONNREFUSED\n` });
});
