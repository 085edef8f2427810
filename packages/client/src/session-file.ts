import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";

/** What the CLI remembers between commands: which server, and the token that drives there. */
export const SavedSession = z.object({
  server: z.string(),
  robot_host: z.string(),
  token: z.string().optional(),
  wallet: z.string().optional(),
  expires_at: z.string().nullish(),
});
export type SavedSession = z.infer<typeof SavedSession>;

export const sessionPath = (env: NodeJS.ProcessEnv = process.env) =>
  join(env.ROBO402_HOME ?? join(homedir(), ".robo402"), "session.json");

export function loadSession(path: string): SavedSession | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const parsed = SavedSession.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

/** Written readable by its owner only: the token is as good as the payment that bought it. */
export function saveSession(path: string, session: SavedSession): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function forgetSession(path: string): void {
  rmSync(path, { force: true });
}
