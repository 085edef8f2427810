import { type Bridge, startBridge, Tumbller } from "@robo402/robot-link";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import type { Logger } from "pino";
import type { RobotEntry } from "../robots/controlled.ts";

/**
 * Simulated Tumbllers that reach the platform as a real one behind a home router would: robo402-link's
 * bridge against each sim's own HTTP boards, dialing the platform's listening URL with a device token.
 */
export async function startLinkedSimulators(
  names: string[],
  platformUrl: string,
  /** Registers the robots and gives each a device token (by host). */
  register: (entries: RobotEntry[]) => Promise<Map<string, string>>,
  logger: Logger,
): Promise<() => Promise<void>> {
  const sims: RobotSim[] = await Promise.all(names.map((name) => startRobotSim({ name })));
  const bridges: Bridge[] = [];
  const close = async () => {
    await Promise.all(bridges.map((bridge) => bridge.close()));
    await Promise.all(sims.map((sim) => sim.close()));
  };
  try {
    const tokens = await register(
      sims.map((sim) => ({ id: sim.name.toLowerCase(), driver: "link", motorUrl: "", cameraUrl: "" })),
    );
    for (const sim of sims) {
      const robot = sim.name.toLowerCase();
      bridges.push(
        startBridge({
          platform: platformUrl,
          token: tokens.get(robot) ?? "",
          boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
          onEvent: (event) => logger.info({ robot, ...event }, "simulated robot's link"),
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return close;
}
