import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const HEADER = `# Bench results

\`npm run bench\` writes a section here on every run, newest first; older runs stay below so a regression
shows. Every figure is read against a baseline measured in the same run on the same machine: compare the
ratios across runs, not the absolute times.
`;

/** CPU model and count, memory, Node version and date: what a run's figures depend on. */
export function machine(now = new Date()): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? "unknown CPU";
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return `${now.toISOString()} — ${model} × ${cpu.length}, ${gib} GiB, Node ${process.version}`;
}

/**
 * Puts a run's section (a `## ` heading and its Markdown) above the previous runs in `path`, creating
 * the file with its header if need be. Nothing already there is removed.
 */
export function recordRun(path: string, heading: string, body: string): void {
  const previous = existsSync(path) ? readFileSync(path, "utf8") : HEADER;
  const firstRun = previous.search(/^## /m);
  const [head, runs] =
    firstRun < 0 ? [previous, ""] : [previous.slice(0, firstRun), previous.slice(firstRun)];
  const section = `## ${heading}\n\n${body.trim()}\n\n`;
  writeFileSync(path, `${head.trimEnd()}\n\n${section}${runs}`.trimEnd().concat("\n"));
}
