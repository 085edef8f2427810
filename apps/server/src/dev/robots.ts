import {
  type RobotSim,
  SERVICE_KINDS,
  startRobotSim,
  startServiceRobot,
  startVelocityRobot,
} from "@robo402/robot-sim";
import type { Payees } from "../payments/networks.ts";
import type { ConfiguredServiceRobot } from "../robots/catalog.ts";
import type { RobotEntry } from "../robots/controlled.ts";
import { DEFAULT_VELOCITY_SETTINGS } from "../robots/drivers/velocity.ts";

/** Starts one robot-sim per name on free loopback ports, registered like real robots. */
export async function startSimulatedRobots(
  names: string[],
): Promise<{ entries: RobotEntry[]; sims: RobotSim[] }> {
  const sims = await Promise.all(names.map((name) => startRobotSim({ name })));
  const entries = sims.map((sim) => ({
    id: sim.name.toLowerCase(),
    driver: "tumbller" as const, // robot-sim speaks the Tumbller's HTTP firmware
    motorUrl: sim.motorUrl,
    cameraUrl: sim.cameraUrl,
  }));
  return { entries, sims };
}

/** Starts one robot-sim velocity rover per name, held to the velocity kind's default limits. */
export async function startSimulatedRovers(
  names: string[],
): Promise<{ entries: RobotEntry[]; close: () => Promise<void> }> {
  const rovers = await Promise.all(names.map((name) => startVelocityRobot({ name })));
  return {
    entries: rovers.map((rover) => ({
      id: rover.name.toLowerCase(),
      driver: "velocity" as const,
      motorUrl: rover.url,
      cameraUrl: rover.cameraUrl,
      settings: DEFAULT_VELOCITY_SETTINGS,
    })),
    close: async () => {
      await Promise.all(rovers.map((rover) => rover.close()));
    },
  };
}

// What the simulated services cost, in USDC per call.
const SERVICE_PRICES = { snapshot: "0.01", "data-analysis": "0.02" } as const;
const SERVICE_DESCRIPTIONS = {
  snapshot: "A picture from a Tumbller's camera, taken the moment you pay.",
  "data-analysis": "Statistics of a list of numbers: count, sum, mean, median, min, max, standard deviation.",
} as const;

/**
 * Starts the simulated service robots (`snapshot` of `cameraUrl`'s pictures, `data-analysis`), listed
 * like any robot, paid to `payees`.
 */
export async function startSimulatedServices(
  cameraUrl: string | undefined,
  payees: Payees,
): Promise<{ robots: ConfiguredServiceRobot[]; close: () => Promise<void> }> {
  const kinds = SERVICE_KINDS.filter((kind) => kind !== "snapshot" || cameraUrl);
  const started = await Promise.all(kinds.map((kind) => startServiceRobot({ kind, cameraUrl })));
  return {
    robots: started.map((robot) => ({
      name: `sim-${robot.kind}`,
      description: SERVICE_DESCRIPTIONS[robot.kind],
      endpoint: robot.url,
      services: [robot.kind],
      price: SERVICE_PRICES[robot.kind],
      payees,
    })),
    close: async () => {
      await Promise.all(started.map((robot) => robot.close()));
    },
  };
}
