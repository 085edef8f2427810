import { parseArgs } from "node:util";
import { type RobotSim, SERVICE_KINDS, startRobotSim, startServiceRobot } from "./index.ts";

const USAGE = `Usage: robot-sim --name <hostname> [--motor-port <port>] [--camera-port <port>] [--host <address>]
       robot-sim --service snapshot|data-analysis [--port <port>] [--camera-url <url>] [--host <address>]

Simulates a Tumbller robot: its motor board and camera board, speaking the firmware's HTTP API.
With --service, simulates a robot that sells a service per call instead: POST / {"service","input"}.

  --name <hostname>     what the motor board's /info reports, e.g. finland-tumbller-03 (required)
  --motor-port <port>   motor board and /_sim/* control API (default: a free port)
  --camera-port <port>  camera board (default: a free port)
  --service <kind>      snapshot (the picture of a Tumbller camera) or data-analysis (statistics of numbers)
  --port <port>         the service robot's port (default: a free port)
  --camera-url <url>    the camera board a snapshot robot uses (default: a simulated Tumbller of its own)
  --host <address>      address to listen on (default: 127.0.0.1; 0.0.0.0 for the whole network)
  -h, --help            print this help`;

const TUMBLLER_FLAGS = ["name", "motor-port", "camera-port"] as const;
const SERVICE_FLAGS = ["port", "camera-url"] as const;

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
        service: { type: "string" },
        port: { type: "string" },
        "camera-url": { type: "string" },
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

interface Running {
  lines: string[];
  close(): Promise<void>;
}

async function runTumbller(): Promise<Running> {
  const stray = SERVICE_FLAGS.find((flag) => args[flag] !== undefined);
  if (stray) fail(`--${stray} goes with --service`);
  if (!args.name) fail("--name is required, e.g. --name finland-tumbller-03");
  const sim = await startRobotSim({
    name: args.name,
    host: args.host,
    motorPort: parsePort(args["motor-port"], "--motor-port"),
    cameraPort: parsePort(args["camera-port"], "--camera-port"),
  });
  return {
    lines: [`${sim.name} motor board:  ${sim.motorUrl}`, `${sim.name} camera board: ${sim.cameraUrl}`],
    close: sim.close,
  };
}

async function runServiceRobot(service: string): Promise<Running> {
  const stray = TUMBLLER_FLAGS.find((flag) => args[flag] !== undefined);
  if (stray) fail(`--${stray} is for a Tumbller, not a --service robot`);
  const kind = SERVICE_KINDS.find((known) => known === service);
  if (!kind) fail(`--service must be ${SERVICE_KINDS.join(" or ")}, not "${service}"`);
  let cameraUrl = args["camera-url"];
  if (cameraUrl !== undefined && (kind !== "snapshot" || !URL.canParse(cameraUrl))) {
    fail(`--camera-url must be a URL and goes with --service snapshot, not "${cameraUrl}"`);
  }
  const port = parsePort(args.port, "--port");
  // A snapshot robot needs a camera: without --camera-url it brings its own simulated Tumbller.
  let camera: RobotSim | undefined;
  if (kind === "snapshot" && cameraUrl === undefined) {
    camera = await startRobotSim({ name: "service-tumbller-01", host: args.host });
    cameraUrl = camera.cameraUrl;
  }
  const robot = await startServiceRobot({ kind, host: args.host, port, cameraUrl }).catch(async (error) => {
    await camera?.close();
    throw error;
  });
  return {
    lines: [`${kind} service robot: ${robot.url}`, ...(camera ? [`its camera board:  ${cameraUrl}`] : [])],
    close: async () => {
      await robot.close();
      await camera?.close();
    },
  };
}

const running = await (args.service === undefined ? runTumbller() : runServiceRobot(args.service)).catch(
  (error: Error) => {
    console.error(`robot-sim: could not start: ${error.message}`);
    process.exit(1);
  },
);

for (const line of running.lines) console.log(line);

const stop = async (signal: NodeJS.Signals) => {
  await running.close();
  console.log(`robot-sim: stopped on ${signal}`);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
