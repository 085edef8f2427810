import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Simulation } from "../platform/simulation.ts";
import { startLinkedSimulators } from "./linked.ts";
import { startSimulatedRobots, startSimulatedRovers, startSimulatedServices } from "./robots.ts";

type SimulationSettings = Pick<
  Config,
  "SIMULATED_ROBOTS" | "SIMULATED_VELOCITY_ROBOTS" | "SIMULATED_SERVICES" | "SIMULATED_LINK_ROBOTS"
>;

/**
 * Starts the simulated Tumbllers and rovers now; the services (paid to the platform's payee) and the
 * robots that dial in when the platform asks.
 */
export async function startSimulation(config: SimulationSettings, logger: Logger): Promise<Simulation> {
  const simulated = await startSimulatedRobots(config.SIMULATED_ROBOTS);
  const rovers = await startSimulatedRovers(config.SIMULATED_VELOCITY_ROBOTS);
  return {
    robots: [...simulated.entries, ...rovers.entries],
    startServices: async (payees) =>
      config.SIMULATED_SERVICES ? startSimulatedServices(simulated.sims[0]?.cameraUrl, payees) : undefined,
    dialIn: async (url, enrol) =>
      config.SIMULATED_LINK_ROBOTS.length === 0
        ? undefined
        : startLinkedSimulators(config.SIMULATED_LINK_ROBOTS, url, enrol, logger),
    // The rovers first, as they started last; the Tumbllers even when the rovers fail to stop.
    close: () => rovers.close().finally(() => Promise.all(simulated.sims.map((sim) => sim.close()))),
  };
}
