import type { IncomingMessage } from "node:http";
import { type Handler, requestUrl, send, sendJson } from "./http.ts";
import type { MotorCommand, Robot } from "./robot.ts";

const MOTOR_COMMANDS: readonly MotorCommand[] = ["forward", "back", "left", "right", "stop"];

/** The motor board's firmware routes: identity, motor commands and the DHT sensor. */
export function motorFirmware(name: string, robot: Robot): Handler {
  return (req, res) => {
    const { pathname } = requestUrl(req);
    const command = MOTOR_COMMANDS.find((known) => pathname === `/motor/${known}`);
    if (req.method !== "GET") send(res, 404, "Not found");
    else if (pathname === "/info") sendJson(res, 200, { hostname: name, ip: localIp(req) });
    else if (pathname === "/sensor/ht") sendJson(res, 200, readSensor());
    else if (command) {
      robot.command(command);
      send(res, 200);
    } else send(res, 404, "Not found");
  };
}

// The firmware reports its own address; the socket's local end is that address here.
const localIp = (req: IncomingMessage) => (req.socket.localAddress ?? "").replace(/^::ffff:/, "");

/** A room-temperature reading with the DHT sensor's jitter, at its 0.1 resolution. */
function readSensor(): { temperature: number; humidity: number } {
  const jitter = (spread: number) => (Math.random() - 0.5) * 2 * spread;
  const tenths = (value: number) => Math.round(value * 10) / 10;
  return { temperature: tenths(22.5 + jitter(0.3)), humidity: tenths(45 + jitter(1.5)) };
}
