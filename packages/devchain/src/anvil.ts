import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { DEV_MNEMONIC } from "./accounts.ts";

export const CHAIN_ID = 31337;

const ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64";
const STARTUP_TIMEOUT_MS = 15_000;

/**
 * Runs anvil under a small shell that holds the read end of our stdin pipe. The pipe closes
 * however this process ends (close(), a crash, even SIGKILL), and then the shell kills anvil,
 * so no orphaned chain survives us. The shell ignores INT and HUP so a terminal's Ctrl-C does
 * not take it down before anvil, and it exits when anvil does, so we see anvil's fate. (The pipe
 * goes through fd 3 because sh gives background jobs /dev/null as stdin.)
 */
const WATCHDOG = `trap "" INT HUP
exec 3<&0
"$0" "$@" </dev/null &
anvil=$!
(read _ <&3; kill $anvil 2>/dev/null) &
wait $anvil`;

export interface Anvil {
  rpcUrl: string;
  close(): Promise<void>;
}

function anvilBinary(): string {
  try {
    const require = createRequire(import.meta.url);
    const binary = path.join(path.dirname(require.resolve(`${ANVIL_PACKAGE}/package.json`)), "bin", "anvil");
    if (existsSync(binary)) return binary;
  } catch {
    // Not installed: reported below.
  }
  throw new Error(
    `anvil not found: @robo402/devchain runs the anvil binary from the npm package ${ANVIL_PACKAGE} ` +
      `(published for Linux x64 only); install it with \`npm install ${ANVIL_PACKAGE}\` on Linux x64`,
  );
}

/** Starts anvil on 127.0.0.1 (on a free port unless one is given) and resolves once its RPC answers. */
export async function startAnvil(options: { port?: number } = {}): Promise<Anvil> {
  const binary = anvilBinary();
  // The mnemonic is anvil's default anyway; passing it pins the accounts DEV_ACCOUNTS lists.
  const args = ["--host", "127.0.0.1", "--port", String(options.port ?? 0), "--chain-id", String(CHAIN_ID)];
  args.push("--mnemonic", DEV_MNEMONIC);
  const child = spawn("/bin/sh", ["-c", WATCHDOG, binary, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  // Ending stdin is the watchdog's signal to stop anvil; doing it twice is harmless.
  const close = () => {
    child.stdin.end();
    return exited;
  };

  try {
    const port = await listeningPort(child.stdout, child.stderr, exited);
    const rpcUrl = `http://127.0.0.1:${port}`;
    await waitForRpc(rpcUrl);
    return { rpcUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Reads the port from anvil's "Listening on 127.0.0.1:PORT" line, which is how --port 0 reports its pick. */
function listeningPort(
  stdout: NodeJS.ReadableStream,
  stderr: NodeJS.ReadableStream,
  exited: Promise<void>,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let output = "";
    let errors = "";
    let settled = false;
    const onStdout = (chunk: Buffer) => {
      output += chunk;
      const match = /Listening on \S+:(\d+)/.exec(output);
      if (match) settle(() => resolve(Number(match[1])));
    };
    const onStderr = (chunk: Buffer) => {
      errors += chunk;
    };
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stdout.off("data", onStdout);
      stderr.off("data", onStderr);
      // Anvil logs every request from now on; keep the pipes flowing so it never blocks on a full buffer.
      stdout.resume();
      stderr.resume();
      outcome();
    };
    const fail = (message: string) =>
      settle(() => reject(new Error(errors.trim() ? `${message}: ${errors.trim()}` : message)));
    const timer = setTimeout(
      () => fail(`anvil did not start within ${STARTUP_TIMEOUT_MS} ms`),
      STARTUP_TIMEOUT_MS,
    );
    stdout.on("data", onStdout);
    stderr.on("data", onStderr);
    exited.then(() => fail("anvil exited during startup"));
  });
}

async function waitForRpc(rpcUrl: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`anvil's RPC at ${rpcUrl} does not answer`, { cause: lastError });
}
