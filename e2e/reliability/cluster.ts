import type { Devchain } from "@robo402/devchain";
import type { RobotSim } from "@robo402/robot-sim";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { robotsEnv, type TestStorage, testStorage } from "../../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "../harness.ts";

/** Server processes selling the same robots from one PostgreSQL (and Redis), paid on the devchain. */
export interface Cluster {
  readonly servers: ServerProcess[];
  readonly databaseUrl: string;
  /** A fresh address per cluster, so its balance and incoming transfers are this cluster's alone. */
  readonly payee: `0x${string}`;
  /** Starts one more instance on the same storage; `env` adds to (or overrides) the shared settings. */
  start(env?: Record<string, string>): Promise<ServerProcess>;
  close(): Promise<void>;
}

/**
 * Needs PostgreSQL: `npm run test:reliability` sets DATABASE_URL (and REDIS_URL) to this machine's
 * when they are unset. Instances start one after the other: the first migrates the schema.
 */
export async function startCluster(
  chain: Devchain,
  sims: readonly RobotSim[],
  options: { instances: number; env?: Record<string, string> },
): Promise<Cluster> {
  const storage: TestStorage = await testStorage();
  const databaseUrl = storage.env.DATABASE_URL;
  if (!databaseUrl) throw new Error("the reliability tests need DATABASE_URL (a PostgreSQL server)");
  const payee = privateKeyToAddress(generatePrivateKey());
  const servers: ServerProcess[] = [];
  const shared = {
    ...storage.env,
    SIMULATED_ROBOTS: "",
    SIMULATED_SERVICES: "false",
    ROBOTS: robotsEnv([...sims]),
    PAYMENT_ENABLED: "true",
    X402_NETWORK: "local",
    FACILITATOR_URL: chain.facilitatorUrl,
    EVM_RPC_URL: chain.rpcUrl,
    PAYMENT_ADDRESS: payee,
    ...options.env,
  };
  const start = async (env: Record<string, string> = {}) => {
    const server = await startServer({ ...shared, ...env });
    servers.push(server);
    return server;
  };
  try {
    for (let i = 0; i < options.instances; i++) await start();
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop("SIGKILL")));
    await storage.drop();
    throw error;
  }
  return {
    servers,
    databaseUrl,
    payee,
    start,
    async close() {
      await Promise.all(servers.map((server) => server.stop("SIGKILL")));
      await storage.drop();
    },
  };
}
