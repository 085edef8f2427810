import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import type { RobotEntry } from "./registry.ts";

/** Starts one robot-sim per name on free loopback ports, registered like real robots. */
export async function startSimulatedRobots(
  names: string[],
): Promise<{ entries: RobotEntry[]; sims: RobotSim[] }> {
  const sims = await Promise.all(names.map((name) => startRobotSim({ name })));
  const entries = sims.map((sim) => ({
    id: sim.name.toLowerCase(),
    driver: "tumbller" as const,
    motorUrl: sim.motorUrl,
    cameraUrl: sim.cameraUrl,
  }));
  return { entries, sims };
}
