import { createServer } from "node:http";
import { CameraBoard } from "./camera-board.ts";
import { controlApi } from "./control.ts";
import { type Board, type BoardFaults, checkBoard, checkFaults, withFaults } from "./faults.ts";
import { closeServer, guard, listen, oneAtATime } from "./http.ts";
import { motorFirmware } from "./motor-board.ts";
import type { Pose } from "./physics.ts";
import { type CommandLogEntry, FIRMWARE_DURATIONS_MS, type MotorCommand, Robot } from "./robot.ts";

export type { BoardFaults } from "./faults.ts";
export type { Pose } from "./physics.ts";
export type { CommandLogEntry, MotorCommand } from "./robot.ts";
export type { ServiceDescription } from "./service.ts";
export {
  SERVICE_KINDS,
  type ServiceFaults,
  type ServiceKind,
  type ServiceRobot,
  type ServiceRobotOptions,
  startServiceRobot,
} from "./service-robot.ts";

export interface RobotSimOptions {
  /** The motor board's hostname, as `/info` reports it, e.g. `finland-tumbller-01`. */
  name: string;
  /** Address both boards listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  motorPort?: number;
  /** 0 (the default) picks a free port. */
  cameraPort?: number;
  /**
   * How long each motion runs before the robot stops by itself. Defaults to the firmware's 2000 ms
   * for forward and back and 1000 ms for turns; tests shorten them to stay quick.
   */
  motionDurationsMs?: Partial<Record<Exclude<MotorCommand, "stop">, number>>;
}

export interface RobotSim {
  readonly name: string;
  /** The motor board, which also serves the `/_sim/*` control API, e.g. `http://127.0.0.1:41234`. */
  readonly motorUrl: string;
  readonly cameraUrl: string;
  pose(): Pose;
  moving(): Exclude<MotorCommand, "stop"> | null;
  /** Every motor command received (the last 1000), oldest first. */
  commands(): readonly CommandLogEntry[];
  /** Replaces that board's faults; `{}` heals it. Throws on values the control API would refuse. */
  setFaults(board: "motor" | "camera", faults: BoardFaults): void;
  /** Back to a fresh robot: start pose, no motion, no faults, empty log, default camera settings. */
  reset(): void;
  /** Closes both servers, clears timers, destroys open sockets. */
  close(): Promise<void>;
}

/** Starts a simulated Tumbller: a motor board and a camera board, each on its own HTTP port. */
export async function startRobotSim(options: RobotSimOptions): Promise<RobotSim> {
  const { name, host = "127.0.0.1", motorPort = 0, cameraPort = 0 } = options;
  if (typeof name !== "string" || name.trim() === "") throw new TypeError("robot-sim needs a name");
  const durations = { ...FIRMWARE_DURATIONS_MS, ...options.motionDurationsMs };
  for (const [motion, ms] of Object.entries(durations)) {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`motionDurationsMs.${motion} must be >= 0`);
  }

  const robot = new Robot(durations);
  const camera = new CameraBoard(() => robot.pose());
  let faults: Record<Board, BoardFaults> = { motor: {}, camera: {} };
  // Aborted by close(), so no slowMs delay outlives the sim.
  const closing = new AbortController();

  const setFaults = (board: Board, next: BoardFaults) => {
    faults = { ...faults, [checkBoard(board)]: checkFaults(next) };
  };
  const reset = () => {
    robot.reset();
    camera.reset();
    faults = { motor: {}, camera: {} };
  };
  const control = controlApi({
    state: () => ({
      name,
      pose: robot.pose(),
      moving: robot.moving(),
      commands: robot.commands(),
      faults: { motor: { ...faults.motor }, camera: { ...faults.camera } },
    }),
    setFaults,
    reset,
  });
  const motor = oneAtATime(withFaults(() => faults.motor, closing.signal, motorFirmware(name, robot)));

  const motorServer = createServer(
    guard((req, res) => {
      res.setHeader("Connection", "close");
      return (req.url?.startsWith("/_sim/") ? control : motor)(req, res);
    }, closing.signal),
  );
  const cameraServer = createServer(
    guard(
      withFaults(() => faults.camera, closing.signal, camera.handle),
      closing.signal,
    ),
  );

  const close = async () => {
    closing.abort();
    await Promise.all([closeServer(motorServer), closeServer(cameraServer)]);
  };
  let ports: [number, number];
  try {
    ports = [await listen(motorServer, motorPort, host), await listen(cameraServer, cameraPort, host)];
  } catch (error) {
    await close();
    throw error;
  }
  const base = host.includes(":") ? `[${host}]` : host;

  return {
    name,
    motorUrl: `http://${base}:${ports[0]}`,
    cameraUrl: `http://${base}:${ports[1]}`,
    pose: () => robot.pose(),
    moving: () => robot.moving(),
    commands: () => robot.commands(),
    setFaults,
    reset,
    close,
  };
}
export {
  type Speeds,
  startVelocityRobot,
  type VelocityLimits,
  type VelocityPose,
  type VelocityRobot,
  type VelocityRobotOptions,
} from "./velocity-robot.ts";
