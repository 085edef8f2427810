import { parseArgs } from "node:util";
import { type Bridge, startBridge, Tumbller } from "@robo402/robot-link";
import {
  type RobotSim,
  SERVICE_KINDS,
  startRobotSim,
  startServiceRobot,
  startVelocityRobot,
} from "./index.ts";

const USAGE = `Usage: robot-sim --name <hostname> [--motor-port <port>] [--camera-port <port>] [--host <address>]
                 [--link <platform url>]
       robot-sim --service snapshot|data-analysis [--port <port>] [--camera-url <url>] [--host <address>]
       robot-sim --velocity --name <hostname> [--port <port>] [--camera-port <port>] [--max-linear <m/s>]
                 [--max-angular <rad/s>] [--watchdog-ms <ms>] [--host <address>]

Simulates a Tumbller robot: its motor board and camera board, speaking the firmware's HTTP API.
With --service, simulates a robot that sells a service per call instead: POST / {"service","input"}.
With --velocity, simulates a rover with a velocity API: POST /velocity {"linear": m/s, "angular": rad/s},
GET /pose; it stops by itself when no command came for its watchdog time.

  --name <hostname>     what the motor board's /info reports, e.g. finland-tumbller-03 (required)
  --motor-port <port>   motor board and /_sim/* control API (default: a free port)
  --camera-port <port>  camera board (default: a free port)
  --link <url>          also dial out to that robo402 platform over the robot link, as robo402-link does
                        beside a real Tumbller, with the device token in ROBO402_LINK_TOKEN
  --service <kind>      snapshot (the picture of a Tumbller camera) or data-analysis (statistics of numbers)
  --port <port>         the service robot's port (default: a free port)
  --camera-url <url>    the camera board a snapshot robot uses (default: a simulated Tumbller of its own)
  --velocity            a velocity rover (its API on --port, its camera on --camera-port)
  --max-linear <m/s>    the rover's own speed limit (default 1)
  --max-angular <rad/s> the rover's own turn-rate limit (default 3.14)
  --watchdog-ms <ms>    the rover stops after this long without a command (default 1000)
  --host <address>      address to listen on (default: 127.0.0.1; 0.0.0.0 for the whole network)
  -h, --help            print this help`;

const TUMBLLER_FLAGS = ["name", "motor-port", "camera-port"] as const;
const SERVICE_FLAGS = ["port", "camera-url"] as const;
const VELOCITY_FLAGS = ["max-linear", "max-angular", "watchdog-ms"] as const;

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
        velocity: { type: "boolean" },
        "max-linear": { type: "string" },
        "max-angular": { type: "string" },
        "watchdog-ms": { type: "string" },
        host: { type: "string" },
        link: { type: "string" },
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

function parseLimit(flag: (typeof VELOCITY_FLAGS)[number]): number | undefined {
  const value = args[flag];
  if (value === undefined) return undefined;
  if (!(Number(value) > 0)) fail(`--${flag} must be a number above 0, not "${value}"`);
  return Number(value);
}

async function runVelocity(): Promise<Running> {
  if (args["camera-url"] !== undefined) fail("--camera-url goes with --service");
  if (!args.name) fail("--name is required, e.g. --name finland-rover-01");
  const rover = await startVelocityRobot({
    name: args.name,
    host: args.host,
    port: parsePort(args.port, "--port"),
    cameraPort: parsePort(args["camera-port"], "--camera-port"),
    limits: {
      maxLinear: parseLimit("max-linear"),
      maxAngular: parseLimit("max-angular"),
      watchdogMs: parseLimit("watchdog-ms"),
    },
  });
  return {
    lines: [`${rover.name} velocity API: ${rover.url}`, `${rover.name} camera board: ${rover.cameraUrl}`],
    close: rover.close,
  };
}

async function runTumbller(): Promise<Running> {
  const velocityFlag = VELOCITY_FLAGS.find((flag) => args[flag] !== undefined);
  if (velocityFlag) fail(`--${velocityFlag} goes with --velocity`);
  const stray = SERVICE_FLAGS.find((flag) => args[flag] !== undefined);
  if (stray) fail(`--${stray} goes with --service`);
  if (!args.name) fail("--name is required, e.g. --name finland-tumbller-03");
  const sim = await startRobotSim({
    name: args.name,
    host: args.host,
    motorPort: parsePort(args["motor-port"], "--motor-port"),
    cameraPort: parsePort(args["camera-port"], "--camera-port"),
  });
  const lines = [`${sim.name} motor board:  ${sim.motorUrl}`, `${sim.name} camera board: ${sim.cameraUrl}`];
  if (args.link === undefined) return { lines, close: sim.close };
  const bridge = linkSim(sim, args.link);
  return {
    lines: [...lines, `${sim.name} dialing ${args.link} over the robot link`],
    close: async () => {
      await bridge.close();
      await sim.close();
    },
  };
}

/** Dials the platform at `platform` with the sim's own boards, as robo402-link does for a real robot. */
function linkSim(sim: RobotSim, platform: string): Bridge {
  if (!URL.canParse(platform) || !/^https?:$/.test(new URL(platform).protocol))
    fail(`--link must be the platform's http:// or https:// URL, not "${platform}"`);
  // Not a flag: a token on the command line shows in ps to every user of the machine.
  const token = process.env.ROBO402_LINK_TOKEN;
  if (!token) fail("--link needs the robot's device token in ROBO402_LINK_TOKEN");
  return startBridge({
    platform,
    token,
    boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
    onEvent: (event) => console.log(`robot-sim: link ${JSON.stringify(event)}`),
  });
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

if (args.velocity && args.service !== undefined) fail("--velocity and --service are different robots");
const start = args.velocity
  ? runVelocity
  : args.service === undefined
    ? runTumbller
    : () => runServiceRobot(args.service ?? "");
const running = await start().catch((error: Error) => {
  console.error(`robot-sim: could not start: ${error.message}`);
  process.exit(1);
});

for (const line of running.lines) console.log(line);

const stop = async (signal: NodeJS.Signals) => {
  await running.close();
  console.log(`robot-sim: stopped on ${signal}`);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
