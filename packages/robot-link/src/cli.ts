import { parseArgs } from "node:util";
import { type BridgeEvent, startBridge } from "./bridge.ts";
import { Tumbller } from "./firmware.ts";

const TOKEN_ENV = "ROBO402_LINK_TOKEN";

const USAGE = `Usage: robo402-link --platform <url> --motor <url> [--camera <url>] [--token <token>]

Connects a Tumbller on this LAN to robo402: dials out to the platform (no port to open on your router)
and speaks the robot's firmware locally. Stops the robot by itself whenever the link drops.

  --platform <url>  the robo402 server, e.g. https://robo402.example
  --motor <url>     the motor board, e.g. http://finland-tumbller-01.local
  --camera <url>    the camera board (default: the motor board's name with -cam, e.g. http://finland-tumbller-01-cam.local)
  --token <token>   the robot's device token; better in the environment as ${TOKEN_ENV}, since
                    a token on the command line shows in ps to every user of this machine
  -h, --help        print this help`;

function fail(message: string): never {
  console.error(`robo402-link: ${message} (see --help)`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        platform: { type: "string" },
        motor: { type: "string" },
        camera: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

function httpUrl(value: string | undefined, flag: string): string {
  if (!value) fail(`${flag} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${flag} must be a URL, not "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    fail(`${flag} must be an http:// or https:// URL`);
  return url.origin;
}

/** The first plan's rule: the camera of `NAME.local` is `NAME-cam.local`. */
function cameraBeside(motor: string): string {
  const url = new URL(motor);
  if (!url.hostname.endsWith(".local")) fail("--camera is required when --motor is not a NAME.local address");
  url.hostname = url.hostname.replace(/\.local$/, "-cam.local");
  return url.origin;
}

const args = parse();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const platform = httpUrl(args.platform, "--platform");
const motor = httpUrl(args.motor, "--motor");
const camera = args.camera ? httpUrl(args.camera, "--camera") : cameraBeside(motor);
const token = args.token ?? process.env[TOKEN_ENV];
if (!token) fail(`a device token is required: set ${TOKEN_ENV} (or pass --token)`);

const say = (event: BridgeEvent) => {
  const line = { at: new Date().toISOString(), ...event };
  (event.type === "stop-failed" || event.type === "gave-up" ? console.error : console.log)(
    JSON.stringify(line),
  );
};
const bridge = startBridge({ platform, token, boards: new Tumbller(motor, camera), onEvent: say });
console.log(JSON.stringify({ at: new Date().toISOString(), type: "dialing", platform, motor, camera }));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void bridge.close().then(() => process.exit(0)));
}

const { code, reason } = await bridge.done;
if (code === 401 || code === 4401) {
  console.error(
    "robo402-link: the platform refused this device token (wrong or rotated): get a new one from the robot's page",
  );
  process.exit(1);
}
if (code === 4409) {
  console.error(`robo402-link: another bridge connected with this token and took the link over (${reason})`);
  process.exit(1);
}
