import { existsSync } from "node:fs";
import { serve } from "@hono/node-server";
import { pino } from "pino";
import { createPlatform } from "./app.ts";
import { ConfigError, loadConfig, simulates } from "./config.ts";
import { DatabaseInUseError } from "./db/pglite-lock.ts";
import { logContext, REDACTED_PATHS } from "./http/request-context.ts";
import { websocketOption } from "./realtime/server.ts";

if (existsSync(".env")) process.loadEnvFile(".env");

const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 100;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // JSON lines, each naming the request it was written for; credentials never written. Written
  // asynchronously and in batches: a write per access line cost every request about 0.3 ms (synchronous)
  // or 0.1 ms (asynchronous). A line waits at most LOG_FLUSH_MS, and pino flushes what is pending when
  // the process exits.
  const destination = pino.destination({ sync: false, minLength: LOG_BATCH_BYTES });
  setInterval(() => destination.flush(), LOG_FLUSH_MS).unref();
  const logger = pino({ level: config.LOG_LEVEL, mixin: logContext, redact: REDACTED_PATHS }, destination);
  // Simulated robots are development's: their code (and robot-sim) loads only when the configuration asks.
  const simulation = simulates(config)
    ? await (await import("./dev/simulation.ts")).startSimulation(config, logger)
    : undefined;
  const platform = await createPlatform(config, logger, simulation);
  const options = {
    fetch: platform.app.fetch,
    websocket: websocketOption(),
    hostname: config.HOST,
    port: config.PORT,
  };
  const server = serve(options, (address) => {
    logger.info(
      {
        url: `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${address.port}`,
        payment_enabled: config.PAYMENT_ENABLED,
        network: platform.network?.id,
        pay_to: platform.network?.payTo,
        facilitator: platform.network?.facilitatorUrl,
        chain_rpc: platform.network?.rpcUrl,
        // Every accepted network (with X402_NETWORKS): where it pays and which RPC reads it.
        networks: platform.networks.map((network) => ({
          network: network.name,
          id: network.id,
          asset: network.asset.address,
          pay_to: network.payTo,
          rpc: network.rpcUrl,
        })),
        database: platform.database.engine,
        robots: platform.robots.list().map((robot) => robot.id),
      },
      "robo402 is listening",
    );
    const url = `http://${config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST}:${address.port}`;
    platform
      .linkSimulated(url.replace("0.0.0.0", "127.0.0.1"))
      .catch((err: unknown) => logger.error({ err }, "the simulated linked robots did not start"));
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.close();
    await platform.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  // A bad setting, or a database directory another process owns, is the user's to fix: one line, no stack.
  console.error(error instanceof ConfigError || error instanceof DatabaseInUseError ? error.message : error);
  process.exit(1);
});
