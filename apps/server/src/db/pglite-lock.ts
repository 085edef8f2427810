import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * One process owns a PGlite directory: PGlite has no lock of its own, and two processes writing the same
 * files lose one's data.
 *
 * Not `proper-lockfile`: its staleness is time-based (a lock left by `kill -9` blocks a restart until
 * its mtime ages out), where a dead owner can be known at once by asking the kernel about its pid. And
 * not one pid file taken over when stale: two processes finding the same stale file could each delete
 * it and create their own. Instead each owner creates its own file in `<dir>.lock/`, named by its pid,
 * its start time and a random id (created atomically, never rewritten), then lists the folder: any
 * other live owner means refusal, and dead ones' files are removed. Of two processes starting at once,
 * at least one sees the other; at worst both refuse, never both open.
 *
 * The start time (Linux's /proc) tells a dead owner from a live process that reused its pid, as when a
 * container's pid 1 is killed and restarted; where /proc is absent only the pid is checked. Owners on
 * other hosts (a network filesystem) cannot be checked and are not supported.
 */
export class DatabaseInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `the database directory ${dataDir} is in use by process ${ownerPid}; ` +
        "use another DATA_DIR, or DATABASE_URL (PostgreSQL) for several instances",
    );
    this.name = "DatabaseInUseError";
  }
}

export interface PgliteLock {
  release(): void;
}

// Owner files of this process, removed on exit when a close never came.
const held = new Set<string>();
process.once("exit", () => {
  for (const file of held) removeFile(file);
});

/** Takes `dataDir` for this process, or throws DatabaseInUseError naming the live owner. */
export function lockPgliteDir(dataDir: string): PgliteLock {
  const dir = realpathSync(dataDir);
  const folder = `${dir}.lock`;
  mkdirSync(folder, { recursive: true });
  const mine = ownerName(process.pid, startTime(process.pid), randomUUID());
  const file = join(folder, mine);
  writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
  held.add(file);
  const release = () => {
    held.delete(file);
    removeFile(file);
  };
  for (const name of readdirSync(folder)) {
    if (name === mine) continue;
    const owner = parseOwner(name);
    if (!owner) continue;
    if (isAlive(owner)) {
      release();
      throw new DatabaseInUseError(dir, owner.pid);
    }
    removeFile(join(folder, name));
  }
  return { release };
}

interface Owner {
  pid: number;
  start: string;
}

const ownerName = (pid: number, start: string, id: string) => `${pid}-${start}-${id}`;

function parseOwner(name: string): Owner | null {
  const match = /^(\d+)-(\d*)-[0-9a-f-]+$/.exec(name);
  return match ? { pid: Number(match[1]), start: match[2] ?? "" } : null;
}

function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A start time we cannot read (/proc hidden) does not prove the pid was reused.
  const start = startTime(owner.pid);
  return owner.start === "" || start === "" || owner.start === start;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or "" unknown. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already (another starting process removed a dead owner's file first) or not ours to
    // remove: neither changes who owns the directory.
  }
}
