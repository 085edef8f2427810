import { existsSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { Email, Password } from "@robo402/protocol";
import { ensureAdmin, NoSuchAccountError, promoteToAdmin } from "../auth/bootstrap.ts";
import { UserStore } from "../auth/store.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { DatabaseInUseError } from "../db/pglite-lock.ts";

const USAGE = `Usage:
  npm run admin -- create <email>    create an admin (or promote one and set its password);
                                     the password comes from ADMIN_PASSWORD or is asked for
  npm run admin -- promote <email>   make an existing account an admin

Uses DATABASE_URL, or the embedded database in DATA_DIR (stop the server first: PGlite has one user).`;

class UsageError extends Error {}

/** Reads a line without echoing it when stdin is a terminal; a piped stdin gives its first line. */
async function ask(question: string): Promise<string> {
  process.stdout.write(question);
  const terminal = process.stdin.isTTY === true;
  // The typed characters go to a sink, so the password never shows on screen.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input: process.stdin, output: sink, terminal });
  // In raw mode Ctrl-C reaches readline, not the process: leave as the terminal would.
  lines.on("SIGINT", () => {
    process.stdout.write("\n");
    process.exit(130);
  });
  try {
    const answer = await lines.question("");
    if (terminal) process.stdout.write("\n");
    return answer;
  } finally {
    lines.close();
  }
}

async function passwordFromUser(env: string | undefined): Promise<string> {
  if (env) return env;
  const password = await ask("Password: ");
  const checked = Password.safeParse(password);
  if (!checked.success) throw new UsageError(`Password ${checked.error.issues[0]?.message}.`);
  if (process.stdin.isTTY && (await ask("Password again: ")) !== password) {
    throw new UsageError("The two passwords differ.");
  }
  return password;
}

async function main(args: string[]): Promise<void> {
  const [command, rawEmail, ...rest] = args;
  if ((command !== "create" && command !== "promote") || !rawEmail || rest.length > 0) {
    throw new UsageError(USAGE);
  }
  const email = Email.safeParse(rawEmail);
  if (!email.success) throw new UsageError(`'${rawEmail}' ${email.error.issues[0]?.message}.`);
  const config = loadConfig(process.env);
  const password = command === "create" ? await passwordFromUser(config.ADMIN_PASSWORD) : undefined;

  const database = await openDatabase(
    config.DATABASE_URL
      ? { kind: "postgres", url: config.DATABASE_URL }
      : { kind: "pglite", dataDir: `${config.DATA_DIR}/pglite` },
  );
  try {
    const users = new UserStore(database.db);
    const user = password
      ? await ensureAdmin(users, email.data, password)
      : await promoteToAdmin(users, email.data);
    console.log(`${user.email} is an admin (account ${user.id}).`);
  } finally {
    await database.close();
  }
}

if (existsSync(".env")) process.loadEnvFile(".env");
main(process.argv.slice(2)).catch((error: unknown) => {
  const known =
    error instanceof UsageError || error instanceof ConfigError || error instanceof DatabaseInUseError;
  if (error instanceof NoSuchAccountError) {
    console.error(`${error.message} Create it with: npm run admin -- create ${error.email}`);
  } else {
    console.error(known ? error.message : error);
  }
  process.exit(1);
});
