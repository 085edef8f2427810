import { parseArgs } from "node:util";
import { startRobotSim } from "./index.ts";

const USAGE = `Usage: robot-sim --name <hostname> [--motor-port <port>] [--camera-port <port>] [--host <address>]

Simulates a Tumbller robot: its motor board and camera board, speaking the firmware's HTTP API.

  --name <hostname>     what the motor board's /info reports, e.g. finland-tumbller-03 (required)
  --motor-port <port>   motor board and /_sim/* control API (default: a free port)
  --camera-port <port>  camera board (default: a free port)
  --host <address>      address to listen on (default: 127.0.0.1; 0.0.0.0 for the whole network)
  -h, --help            print this help`;

function fail(message: string): never {
  console.error(`robot-sim: ${message} (see --help)`);
  process.exit(2);
}

function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    fail(`${flag} must be a port from 0 to 65535, not "${value}"`);
  return Number(value);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        name: { type: "string" },
        "motor-port": { type: "string" },
        "camera-port": { type: "string" },
        host: { type: "string" },
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
if (!args.name) fail("--name is required, e.g. --name finland-tumbller-03");

const sim = await startRobotSim({
  name: args.name,
  host: args.host,
  motorPort: parsePort(args["motor-port"], "--motor-port"),
  cameraPort: parsePort(args["camera-port"], "--camera-port"),
}).catch((error: Error) => {
  console.error(`robot-sim: could not start: ${error.message}`);
  process.exit(1);
});

console.log(`${sim.name} motor board:  ${sim.motorUrl}`);
console.log(`${sim.name} camera board: ${sim.cameraUrl}`);

const stop = async (signal: NodeJS.Signals) => {
  await sim.close();
  console.log(`robot-sim: stopped on ${signal}`);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
