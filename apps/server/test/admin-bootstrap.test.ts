import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { type TestStorage, testStorage } from "./helpers.ts";

const ADMIN = { email: "admin@robo402.test", password: "the operator's password" };

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Started {
  readonly platform: Platform;
  /** What the server logged at warn and above. */
  readonly warnings: Array<Record<string, unknown>>;
}

/** The whole platform on `storage` (no robots, free mode: only accounts matter here). */
async function start(storage: TestStorage, env: Record<string, string> = {}): Promise<Started> {
  const warnings: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  const config = loadConfig({
    PAYMENT_ENABLED: "false",
    SIMULATED_ROBOTS: "",
    SIMULATED_SERVICES: "false",
    ...storage.env,
    ...env,
  });
  const platform = await createPlatform(config, logger);
  return { platform, warnings };
}

const call = async (started: Started, path: string, body?: unknown, token?: string) =>
  started.platform.app.request(path, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("the first admin (ADMIN_EMAIL, ADMIN_PASSWORD)", () => {
  it("is never someone's account registered under ADMIN_EMAIL first: not promoted, the server starts and says why", async () => {
    const storage = await testStorage();
    closers.push(() => storage.drop());
    const before = await start(storage);
    const squatter = { email: ADMIN.email, password: "the squatter's password" };
    expect((await call(before, "/api/auth/register", squatter)).status).toBe(201);
    await before.platform.close();

    const after = await start(storage, { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    closers.push(() => after.platform.close());
    expect(after.warnings).toContainEqual(
      expect.objectContaining({
        level: 40,
        email: ADMIN.email,
        msg: expect.stringContaining(`npm run admin -- create ${ADMIN.email}`),
      }),
    );
    const login = await call(after, "/api/auth/login", squatter);
    expect(login.status).toBe(200);
    const { access_token, user } = (await login.json()) as { access_token: string; user: { role: string } };
    expect(user.role).toBe("user");
    expect((await call(after, "/api/admin/users", undefined, access_token)).status).toBe(403);
    // Nor was the squatter's password replaced by the operator's.
    expect((await call(after, "/api/auth/login", ADMIN)).status).toBe(401);
  });

  it("is created at the first start when its email is free, and a restart leaves it as it is", async () => {
    const storage = await testStorage();
    closers.push(() => storage.drop());
    const first = await start(storage, { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    const login = await call(first, "/api/auth/login", ADMIN);
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    expect((await call(first, "/api/admin/users", undefined, access_token)).status).toBe(200);
    await first.platform.close();

    const again = await start(storage, { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: "another password" });
    closers.push(() => again.platform.close());
    expect(again.warnings).toEqual([]);
    // Its password and its tokens are untouched: a restart does not log the admin out.
    expect((await call(again, "/api/admin/users", undefined, access_token)).status).toBe(200);
    expect((await call(again, "/api/auth/login", ADMIN)).status).toBe(200);
  });
});
