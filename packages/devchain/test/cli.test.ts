import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/devchain.js", import.meta.url));

let child: ChildProcess | undefined;
afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
});

describe("devchain CLI", () => {
  it("prints both chains, their tokens, the facilitator and the funded keys, and shuts them down on SIGTERM", async () => {
    const cli = spawn(process.execPath, [BIN], { stdio: ["ignore", "pipe", "pipe"] });
    child = cli;
    let stdout = "";
    let stderr = "";
    cli.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      cli.stdout.on("data", (chunk) => {
        stdout += chunk;
        // The Solana keypairs come last: (9) is the facilitator's fee payer.
        if (
          /Solana keypairs[\s\S]*\(9\) [1-9A-HJ-NP-Za-km-z]{32,44} +[1-9A-HJ-NP-Za-km-z]{80,90}\n/.test(
            stdout,
          )
        )
          resolve();
      });
      cli.once("exit", (code) => reject(new Error(`devchain exited (${code}) before printing: ${stderr}`)));
    });

    expect(stdout).toContain("Token:           0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(stdout).toMatch(/Chain ID: +31337/);
    expect(stdout).toMatch(/Facilitator URL: +http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain("(0) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266  0xac0974bec3");
    const rpcUrl = /^RPC URL: +(\S+)/m.exec(stdout)?.[1] ?? expect.unreachable();
    // The keypairs are the same on every start, so printed keys stay valid.
    expect(stdout).toContain("(1) CpjtD9tNtSUPstAMNxBTmUY4hYnpvRNy1ozaQTYnL2to  4hcuYLp4ngWAK46hscSj6gE");
    expect(stdout).toMatch(
      /Solana USDC: +12Gpb8AhSSmnpSuyB1PJ9pARoVam72R8r33YT52A5Jnx \(SPL Token, 6 decimals\)/,
    );
    const solanaRpcUrl = /Solana RPC URL: +(\S+)/.exec(stdout)?.[1] ?? expect.unreachable();

    const exited = once(cli, "exit");
    cli.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);
    await expect(fetch(rpcUrl, { method: "POST" })).rejects.toThrow();
    await expect(fetch(solanaRpcUrl, { method: "POST" })).rejects.toThrow();
  });
});
