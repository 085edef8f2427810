import { afterEach } from "vitest";
import { type RobotSim, type RobotSimOptions, startRobotSim } from "../src/index.ts";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts sims on free loopback ports and closes them after each test of the calling file. */
export function useSims(): (options?: Partial<RobotSimOptions>) => Promise<RobotSim> {
  const started: RobotSim[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((sim) => sim.close()));
  });
  return async (options = {}) => {
    const sim = await startRobotSim({ name: "test-tumbller-01", ...options });
    started.push(sim);
    return sim;
  };
}
