import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { MAIN_SCRIPT as MAIN } from "@robo402/server";

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every log line the server printed, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

// Load tests and benches buy hundreds of times from one address, which the production limits refuse.
const RAISED_RATE_LIMITS = {
  LOGIN_RATE_LIMIT: "1000000",
  REGISTER_RATE_LIMIT: "1000000",
  PURCHASE_RATE_LIMIT: "1000000",
  VERIFY_RATE_LIMIT: "1000000",
};

/**
 * `npm start` as a real process (on a free port), resolved once it is listening. The abuse limits are
 * raised unless `env` sets them.
 */
export function startServer(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", MAIN], {
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      // A test names the robots it needs; the default's linked simulator is for `npm start`.
      SIMULATED_LINK_ROBOTS: "",
      ...RAISED_RATE_LIMITS,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failed test (it would hold its port, database and robots).
      child.kill("SIGKILL");
      reject(new Error(`server did not start in time\n${stderr}`));
    }, 45_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening\n${stderr}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === "robo402 is listening") {
        clearTimeout(timer);
        resolve({
          url: String(entry.url),
          child,
          logs,
          async stop(signal = "SIGTERM") {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    });
  });
}
