import { parseArgs } from "node:util";
import { startDevchain } from "./index.ts";

const USAGE = `Usage: devchain [--anvil-port <port>] [--facilitator-port <port>] [--solana-port <port>]

Starts a local chain for x402 development: anvil (chain id 31337) with a test USDC (EIP-3009)
at a fixed address, 10,000 USDC on each of the ten default accounts, a local Solana (litesvm behind
a JSON-RPC, with a test USDC mint and ten funded keypairs) and an x402 facilitator for both.
Runs until Ctrl-C.

  --anvil-port <port>        anvil's JSON-RPC port (default: a free port)
  --facilitator-port <port>  the facilitator's port (default: a free port)
  --solana-port <port>       the local Solana's JSON-RPC port (default: a free port)
  -h, --help                 print this help`;

function fail(message: string): never {
  console.error(`devchain: ${message} (see --help)`);
  process.exit(2);
}

function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    fail(`${flag} must be a port from 0 to 65535, not "${value}"`);
  }
  return Number(value);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        "anvil-port": { type: "string" },
        "facilitator-port": { type: "string" },
        "solana-port": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

const args = parse(process.argv.slice(2));
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const devchain = await startDevchain({
  anvilPort: parsePort(args["anvil-port"], "--anvil-port"),
  facilitatorPort: parsePort(args["facilitator-port"], "--facilitator-port"),
  solanaRpcPort: parsePort(args["solana-port"], "--solana-port"),
}).catch((error: Error) => {
  console.error(`devchain: could not start: ${error.message}`);
  process.exit(1);
});

// Before anything is printed: a reader may act on the output (and send a signal) at once.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    devchain.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`devchain: could not close cleanly: ${error.message}`);
        process.exit(1);
      },
    );
  });
}

const { token } = devchain;
console.log(`RPC URL:         ${devchain.rpcUrl}`);
console.log(`Chain ID:        ${devchain.chainId} (${devchain.network})`);
console.log(
  `Token:           ${token.address} (${token.name}, version ${token.version}, ${token.decimals} decimals)`,
);
console.log(`Facilitator URL: ${devchain.facilitatorUrl}`);
console.log("\nFunded accounts (10,000 USDC each; #9 is the facilitator's signer):");
devchain.accounts.forEach((account, index) => {
  console.log(`(${index}) ${account.address}  ${account.privateKey}`);
});

const { solana } = devchain;
console.log(`\nSolana RPC URL:  ${solana.rpcUrl} (local runtime, presented as ${solana.network})`);
console.log(`Solana USDC:     ${solana.mint} (SPL Token, ${solana.decimals} decimals)`);
console.log("Solana keypairs (100 SOL and 10,000 USDC each; #9 pays the facilitator's fees):");
solana.accounts.forEach((account, index) => {
  console.log(`(${index}) ${account.address}  ${account.secretKey}`);
});
