import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MOTOR_COMMANDS, type MotorCommand } from "@robo402/protocol";
import { Robo402Client, Robo402Error } from "./client.ts";
import { SolanaRpcError } from "./payer.ts";
import { forgetSession, loadSession, saveSession, sessionPath } from "./session-file.ts";

const USAGE = `Usage: robo402 <command> [options]

  robots                     list the robots and whether they are free
  buy <robot> --key 0x…      pay for time on a robot (x402) and keep the session token
  buy <robot> --solana-key <file|base58>   the same, paid in USDC on Solana
  drive <${MOTOR_COMMANDS.join("|")}>   drive the robot you bought
  velocity --linear <l> --angular <a> [--seconds <s>]
                             drive a velocity robot: speeds from -1 to 1 (negative: --angular=-0.5),
                             sent ten times a second for s seconds (default 1), then stop
  frame <out.jpg>            save the robot's camera frame
  status                     your session
  release                    end your session (the robot stops)

Options:
  --server <url>   the platform (default $ROBO402_SERVER or http://localhost:8000)
  --key <0x…>      EVM private key that pays (default $ROBO402_KEY)
  --solana-key <file|base58>
                   Solana keypair that pays: a keypair file (a JSON list of 64 bytes, as
                   solana-keygen writes) or the base58 secret key (default $ROBO402_SOLANA_KEY)
  --solana-rpc <url>
                   the Solana JSON-RPC to build transfers against (default $ROBO402_SOLANA_RPC,
                   else the public one of the server's cluster; \`npm run devchain\` prints the local one)
  --wallet <addr>  free-mode servers: the wallet to act as
  --max <usd>      most one payment may cost, in dollars (default 1)
  -h, --help       this help

The session is kept in ${sessionPath()} (override with ROBO402_HOME).`;

// Ten commands a second, as a velocity robot expects while it moves.
const VELOCITY_PERIOD_MS = 100;

function fail(message: string, code = 2): never {
  console.error(`robo402: ${message}`);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        server: { type: "string" },
        key: { type: "string" },
        "solana-key": { type: "string" },
        "solana-rpc": { type: "string" },
        wallet: { type: "string" },
        max: { type: "string" },
        linear: { type: "string" },
        angular: { type: "string" },
        seconds: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message} (see --help)`);
  }
})();

const [command, argument] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command || values.help ? 0 : 2);
}

const file = sessionPath();
const saved = loadSession(file);
const server = values.server ?? process.env.ROBO402_SERVER ?? saved?.server ?? "http://localhost:8000";
const key = values.key ?? process.env.ROBO402_KEY;
if (key !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(key))
  fail("--key must be a 0x-prefixed 32-byte hex private key");
const solanaKey = values["solana-key"] ?? process.env.ROBO402_SOLANA_KEY;
const solanaRpc = values["solana-rpc"] ?? process.env.ROBO402_SOLANA_RPC;

/** A keypair file's 64 bytes, or the base58 key itself. */
function solanaSecret(value: string): string | Uint8Array {
  if (!existsSync(value)) {
    // 64 bytes in base58 are 86 to 88 characters.
    if (/^[1-9A-HJ-NP-Za-km-z]{80,90}$/.test(value)) return value;
    return fail("--solana-key must be a keypair file (a JSON list of 64 bytes) or a base58 secret key");
  }
  try {
    const bytes: unknown = JSON.parse(readFileSync(value, "utf8"));
    if (Array.isArray(bytes) && bytes.length === 64 && bytes.every((byte) => Number.isInteger(byte)))
      return Uint8Array.from(bytes as number[]);
  } catch {}
  return fail(`--solana-key ${value}: expected a keypair file holding a JSON list of 64 bytes`);
}

const max = values.max ?? "1";
if (!/^\d+(\.\d{1,6})?$/.test(max)) fail("--max must be a dollar amount like 0.50");
const [whole = "0", fraction = ""] = max.split(".");
const client = new Robo402Client({
  baseUrl: server,
  privateKey: key as `0x${string}` | undefined,
  solana: solanaKey ? { secretKey: solanaSecret(solanaKey), rpcUrl: solanaRpc } : undefined,
  wallet: values.wallet ?? saved?.wallet,
  maxAmount: BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0")),
  token: saved?.server === server ? saved.token : undefined,
});

async function run(): Promise<void> {
  switch (command) {
    case "robots": {
      const response = await fetch(new URL("/api/v1/robots", server));
      const robots = (await response.json()) as Array<{
        robot_host: string;
        available: boolean;
        locked_by: string | null;
      }>;
      for (const robot of robots) {
        console.log(`${robot.robot_host}\t${robot.available ? "free" : `in use by ${robot.locked_by}`}`);
      }
      return;
    }
    case "buy": {
      if (!argument) fail("buy needs a robot, e.g. robo402 buy finland-tumbller-01 --key 0x…");
      const purchase = await client.buy(argument);
      saveSession(file, {
        server,
        robot_host: argument,
        token: purchase.session.token,
        wallet: values.wallet,
        expires_at: purchase.session.expires_at,
      });
      console.log(purchase.message);
      if (purchase.payment_tx) console.log(`paid: ${purchase.payment_tx}`);
      console.log(`until ${purchase.session.expires_at}`);
      return;
    }
    case "drive": {
      if (!MOTOR_COMMANDS.includes(argument as MotorCommand))
        fail(`drive needs one of ${MOTOR_COMMANDS.join(", ")}`);
      const result = await client.drive(argument as MotorCommand);
      console.log(`${result.command}: ${result.status}`);
      return;
    }
    case "velocity": {
      const speed = (name: "linear" | "angular") => {
        const value = Number(values[name] ?? "0");
        if (!(Math.abs(value) <= 1)) fail(`--${name} must be a number from -1 to 1`);
        return value;
      };
      const velocity = { linear: speed("linear"), angular: speed("angular") };
      const seconds = Number(values.seconds ?? "1");
      if (!(seconds > 0 && seconds <= 600)) fail("--seconds must be a number above 0, at most 600");
      // The platform's dead-man stops a robot whose commands stop coming: repeat, then stop it ourselves.
      const until = Date.now() + seconds * 1000;
      try {
        while (Date.now() < until) {
          await client.velocity(velocity);
          await new Promise((resolve) => setTimeout(resolve, VELOCITY_PERIOD_MS));
        }
      } finally {
        await client.drive("stop");
      }
      console.log(`velocity ${velocity.linear}, ${velocity.angular} for ${seconds} s, then stop: ok`);
      return;
    }
    case "frame": {
      if (!argument) fail("frame needs a file to write, e.g. robo402 frame out.jpg");
      const jpeg = await client.frame();
      writeFileSync(argument, jpeg);
      console.log(`${argument}: ${jpeg.length} bytes`);
      return;
    }
    case "status": {
      console.log(JSON.stringify(await client.session(), null, 2));
      return;
    }
    case "release": {
      const released = await client.release();
      forgetSession(file);
      console.log(`released ${released.robot_host}`);
      return;
    }
    default:
      fail(`unknown command '${command}' (see --help)`);
  }
}

run().catch((error: unknown) => {
  if (error instanceof Robo402Error) fail(error.message, 1);
  if (error instanceof SolanaRpcError)
    fail(
      `${error.message} (the platform at ${server} answered). Point --solana-rpc (or ROBO402_SOLANA_RPC) at a running Solana RPC: the one the server's start log names, or \`npm run devchain\`'s.`,
      1,
    );
  // Node's fetch fails this way when the platform gave no HTTP answer at all.
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = (error.cause as { code?: string; message?: string } | undefined) ?? {};
    fail(`cannot reach ${server}: ${cause.code ?? cause.message ?? error.message}`, 1);
  }
  fail((error as Error).message, 1);
});
