import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** `--import` this in every child, so none outlives the bench (see orphan-guard.mjs). */
export const ORPHAN_GUARD = ["--import", new URL("./orphan-guard.mjs", import.meta.url).href];

/** Things to undo at the end, last started first stopped; run on success, on error and on Ctrl-C. */
export class Cleanup {
  readonly #steps: Array<{ what: string; run: () => Promise<void> }> = [];
  #running: Promise<void> | undefined;

  add(what: string, run: () => Promise<void>): void {
    this.#steps.push({ what, run });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
        await step
          .run()
          .catch((error: unknown) => console.error(`bench: could not stop ${step?.what}:`, error));
      }
      this.#running = undefined;
    })();
    return this.#running;
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A TypeScript entry point in its own node process (with tsx and the orphan guard). */
export function spawnTs(script: URL, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [...ORPHAN_GUARD, "--import", "tsx", fileURLToPath(script)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The first line of the child's stdout that is a JSON object: how bench children say they are ready. */
export function readyMessage<T>(child: ChildProcess, what: string, timeoutMs = 60_000): Promise<T> {
  // Kept for the error until ready; afterwards passed on, so what a child complains of is seen.
  let stderr = "";
  let ready = false;
  child.stderr?.on("data", (chunk) => {
    if (ready) process.stderr.write(`[${what}] ${chunk}`);
    else stderr += chunk;
  });
  return new Promise<T>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${what} ${why}${stderr ? `\n${stderr}` : ""}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutMs / 1000} s`), timeoutMs);
    child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
    // Listening to every line also keeps the pipe drained for as long as the child runs.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        const message = JSON.parse(line) as T;
        clearTimeout(timer);
        ready = true;
        resolve(message);
      } catch {}
    });
  });
}

export interface SimProcess {
  readonly motorUrl: string;
  readonly cameraUrl: string;
  readonly child: ChildProcess;
}

/** A robot-sim in its own process, so the load generator and the robot do not share a CPU. */
export async function startSimProcess(name: string): Promise<SimProcess> {
  const bin = fileURLToPath(new URL("../packages/robot-sim/bin/robot-sim.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [...ORPHAN_GUARD, bin, "--name", name, "--motor-port", "0", "--camera-port", "0"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const urls = await new Promise<string[]>((resolve, reject) => {
    const found: string[] = [];
    child.once("exit", (code, signal) => reject(new Error(`robot-sim ${name} exited (${code ?? signal})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      found.push(...(line.match(/http:\/\/[\d.:]+/g) ?? []));
      if (found.length >= 2) resolve(found);
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  const [motorUrl, cameraUrl] = urls as [string, string];
  return { motorUrl, cameraUrl, child };
}
