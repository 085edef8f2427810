import type { Logger } from "pino";
import { createPlatform as createConfiguredPlatform, type Platform } from "../app.ts";
import type { Config } from "../config.ts";
import { startSimulation } from "./simulation.ts";

export type { Platform };

/** The platform as `npm start` runs it in development: app.ts's, with the simulated robots `config` asks for. */
export async function createPlatform(config: Config, logger: Logger): Promise<Platform> {
  return createConfiguredPlatform(config, logger, await startSimulation(config, logger));
}
