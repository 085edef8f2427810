/**
 * The server's public entry: what harnesses, benches and tools outside apps/server build a platform from.
 * Everything else under src/ is internal.
 */
import { fileURLToPath } from "node:url";

export { createPlatform, type Platform } from "./app.ts";
export { type Config, ConfigError, loadConfig, signInOrigins } from "./config.ts";
export type { Simulation } from "./platform/simulation.ts";

/** The script `npm start` runs, for harnesses that start the server as a child process. */
export const MAIN_SCRIPT = fileURLToPath(new URL("./main.ts", import.meta.url));
