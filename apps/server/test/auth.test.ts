import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { SignJWT } from "jose";
import { pino } from "pino";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage, parseSiweMessage } from "viem/siwe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminUserRoutes } from "../src/admin/user-routes.ts";
import { AdminEmailTakenError, ensureAdmin } from "../src/auth/bootstrap.ts";
import { type AuthEnv, authenticate, requireRole, signedIn } from "../src/auth/middleware.ts";
import { SignInOrigins } from "../src/auth/origins.ts";
import { hashPassword } from "../src/auth/passwords.ts";
import { authRoutes } from "../src/auth/routes.ts";
import { type AuthOptions, AuthService } from "../src/auth/service.ts";
import { loadConfig } from "../src/config.ts";
import { type Database, openDatabase } from "../src/db/client.ts";
import { users } from "../src/db/schema.ts";
import { errorHandler } from "../src/http/errors.ts";
import { type Kv, openKv } from "../src/kv/index.ts";
import { type TestStorage, testStorage } from "./helpers.ts";

const SECRET = "a-test-secret-of-at-least-32-characters!";
const PASSWORD = "correct horse battery";

type Json = Record<string, unknown>;

interface Harness {
  readonly url: string;
  readonly auth: AuthService;
  readonly database: Database;
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  /** Registers an account (then sets its role directly when it is admin) and returns its token. */
  account(email: string, role?: "user" | "robot_owner" | "admin"): Promise<{ token: string; id: string }>;
}

const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

const openDb = (storage: TestStorage) => {
  const config = loadConfig(storage.env);
  return openDatabase(
    config.DATABASE_URL
      ? { kind: "postgres", url: config.DATABASE_URL }
      : { kind: "pglite", dataDir: `${config.DATA_DIR}/pglite` },
  );
};

// Opening PGlite takes seconds on a busy machine: the tests share one database (emptied before each)
// and open their own only to restart it.
let shared: { storage: TestStorage; database: Database; kv: Kv };
beforeAll(async () => {
  const storage = await testStorage();
  const database = await openDb(storage);
  const kv = await openKv(storage.env.REDIS_URL, storage.env.REDIS_PREFIX ?? "");
  shared = { storage, database, kv };
});
afterAll(async () => {
  await shared?.kv.close();
  await shared?.database.close();
  await shared?.storage.drop();
});
beforeEach(async () => {
  await shared.database.db.delete(users);
});

async function newStorage(): Promise<TestStorage> {
  const storage = await testStorage();
  open.push(() => storage.drop());
  return storage;
}

/** The auth routes on a real HTTP listener, as app.ts mounts them, plus a route standing in for robots. */
async function start(
  options: Partial<AuthOptions> = {},
  given?: { storage: TestStorage; database?: Database; kv?: Kv },
): Promise<Harness> {
  const storage = given?.storage ?? shared.storage;
  const database = given?.database ?? (given ? await openDb(storage) : shared.database);
  if (given && !given.database) open.push(() => database.close());
  const kv =
    given?.kv ?? (given ? await openKv(storage.env.REDIS_URL, storage.env.REDIS_PREFIX ?? "") : shared.kv);
  if (given && !given.kv) open.push(() => kv.close());
  // Listening first: sign-ins are bound to the origin the server is reached at, which the port decides.
  let app: OpenAPIHono<AuthEnv> | undefined;
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve(
      {
        fetch: (request, env) => (app ?? expect.unreachable()).fetch(request, env),
        hostname: "127.0.0.1",
        port: 0,
      },
      () => resolve(started),
    );
  });
  open.push(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const auth = await AuthService.open(database.db, kv, {
    jwtSecret: SECRET,
    ttlMinutes: 60,
    origins: new SignInOrigins([url]),
    ...options,
  });
  app = new OpenAPIHono<AuthEnv>();
  app.onError(errorHandler(pino({ level: "silent" })));
  app.route("/api/auth", authRoutes(auth));
  app.route("/api/admin", adminUserRoutes(auth));
  // How the lead mounts the middleware on another domain's routes: anonymous reads, owners write.
  app.use("/api/robots", authenticate(auth));
  app.get("/api/robots", (c) => c.json({ caller: c.var.user?.email ?? null }));
  app.post("/api/robots", requireRole("robot_owner", "admin"), (c) => c.json({ by: signedIn(c).email }, 201));
  app.doc31("/openapi.json", { openapi: "3.1.0", info: { title: "robo402", version: "test" } });

  const request: Harness["request"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    const body = init.json === undefined ? init.body : JSON.stringify(init.json);
    return fetch(`${url}${path}`, { ...init, headers, body });
  };
  const account: Harness["account"] = async (email, role = "user") => {
    const response = await request("/api/auth/register", {
      method: "POST",
      json: { email, password: PASSWORD, role: role === "admin" ? "user" : role },
    });
    expect(response.status).toBe(201);
    const { access_token, user } = (await response.json()) as { access_token: string; user: { id: string } };
    if (role !== "admin") return { token: access_token, id: user.id };
    // Promotion refuses the tokens issued before it: the new admin logs in again.
    await auth.users.setRole(user.id, "admin");
    const login = await request("/api/auth/login", { method: "POST", json: { email, password: PASSWORD } });
    return { token: ((await login.json()) as { access_token: string }).access_token, id: user.id };
  };
  return { url, auth, database, request, account };
}

const detail = async (response: Response) => ((await response.json()) as { detail: unknown }).detail;

describe("register, login, me", () => {
  it("registers with a lower-cased email, returns a bearer token that /me accepts, and logs in", async () => {
    const t = await start();
    const registered = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "  Ada@Example.COM ", password: PASSWORD, role: "robot_owner" },
    });
    expect(registered.status).toBe(201);
    const body = (await registered.json()) as Json & { access_token: string; user: Json };
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    expect(body.user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: "ada@example.com",
      role: "robot_owner",
      wallet_address: null,
      total_spent: expect.stringMatching(/^0(\.0+)?$/),
      created_at: expect.any(String),
    });

    const me = await t.request("/api/auth/me", { token: body.access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual(body.user);

    const login = await t.request("/api/auth/login", {
      method: "POST",
      json: { email: "ADA@example.com", password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const logged = (await login.json()) as { access_token: string; user: Json };
    expect(logged.user).toEqual(body.user);
    expect((await t.request("/api/auth/me", { token: logged.access_token })).status).toBe(200);
  });

  it("stores an argon2id hash, never the password", async () => {
    const t = await start();
    const { id } = await t.account("hash@example.com");
    const [row] = await t.database.db.select().from(users).where(eq(users.id, id));
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row?.passwordHash).not.toContain(PASSWORD);
  });

  it("defaults to role user and refuses admin at sign-up", async () => {
    const t = await start();
    const plain = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "plain@example.com", password: PASSWORD },
    });
    expect(((await plain.json()) as { user: Json }).user.role).toBe("user");

    const admin = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "sneaky@example.com", password: PASSWORD, role: "admin" },
    });
    expect(admin.status).toBe(403);
    expect(await detail(admin)).toBe(
      "Cannot register as admin: choose user or robot_owner; an admin promotes accounts.",
    );
    const unknownRole = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "sneaky@example.com", password: PASSWORD, role: "superuser" },
    });
    expect(unknownRole.status).toBe(422);
  });

  it("refuses a short password and a malformed email with 422 naming the field", async () => {
    const t = await start();
    const short = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "short@example.com", password: "1234567" },
    });
    expect(short.status).toBe(422);
    expect(await detail(short)).toEqual([
      expect.objectContaining({ loc: ["body", "password"], msg: "must be at least 8 characters" }),
    ]);
    const email = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "not-an-email", password: PASSWORD },
    });
    expect(email.status).toBe(422);
    expect(await detail(email)).toEqual([expect.objectContaining({ loc: ["body", "email"] })]);
  });

  it("refuses a second account for the same email, whatever its capitals", async () => {
    const t = await start();
    await t.account("twice@example.com");
    const again = await t.request("/api/auth/register", {
      method: "POST",
      json: { email: "TWICE@example.com", password: "another password" },
    });
    expect(again.status).toBe(409);
    expect(await detail(again)).toBe("An account with this email already exists.");
  });

  it("answers a wrong password and an unknown email alike", async () => {
    const t = await start();
    await t.account("known@example.com");
    for (const email of ["known@example.com", "nobody@example.com"]) {
      const response = await t.request("/api/auth/login", {
        method: "POST",
        json: { email, password: "wrong password" },
      });
      expect(response.status).toBe(401);
      expect(await detail(response)).toBe("Incorrect email or password.");
    }
  });
});

describe("access tokens", () => {
  const me = (t: Harness, authorization?: string) =>
    t.request("/api/auth/me", { headers: authorization ? { authorization } : {} });

  const expectRefused = async (response: Response, reason: string) => {
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await detail(response)).toBe(reason);
  };

  const sign = (claims: Json, secret = SECRET, exp: string | number = "1h") =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("robo402")
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  it("says the token is missing when there is none", async () => {
    const t = await start();
    await expectRefused(
      await me(t),
      "Not authenticated: missing token; send Authorization: Bearer <access token>.",
    );
  });

  it("says the header or token is malformed", async () => {
    const t = await start();
    const malformed = "Token refused: malformed (expected a signed JWT).";
    await expectRefused(
      await me(t, "Basic YWRhOnB3"),
      "Token refused: malformed Authorization header; send 'Bearer <access token>'.",
    );
    await expectRefused(await me(t, "Bearer not-a-jwt"), malformed);
    await expectRefused(await me(t, "Bearer a.b.c"), malformed);
  });

  it("refuses a token whose payload was changed, whose signature was changed, or signed with another secret", async () => {
    const t = await start();
    const user = await t.account("victim@example.com");
    const admin = await t.account("boss@example.com", "admin");
    const [header, payload, signature] = user.token.split(".");
    const [, adminPayload] = admin.token.split(".");
    const invalid = "Token refused: invalid signature.";

    // The user's signature on the admin's claims.
    await expectRefused(await me(t, `Bearer ${header}.${adminPayload}.${signature}`), invalid);
    // A role raised in the user's own claims.
    const raised = b64({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), role: "admin" });
    await expectRefused(await me(t, `Bearer ${header}.${raised}.${signature}`), invalid);
    // One character in the middle (the last one holds base64 padding bits that decoders ignore).
    const flipped = `${signature?.slice(0, 10)}${signature?.[10] === "A" ? "B" : "A"}${signature?.slice(11)}`;
    await expectRefused(await me(t, `Bearer ${header}.${payload}.${flipped}`), invalid);
    const forged = await sign({ sub: admin.id, role: "admin" }, "another-secret-that-is-32-characters-long");
    await expectRefused(await me(t, `Bearer ${forged}`), invalid);
    // The real secret still works: the refusals above were the tampering, not the test's signing.
    expect((await me(t, `Bearer ${await sign({ sub: user.id, role: "user", ver: 0 })}`)).status).toBe(200);
  });

  it("refuses an unsigned token (alg none)", async () => {
    const t = await start();
    const { id } = await t.account("none@example.com", "admin");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: id, role: "admin", iss: "robo402", exp: now + 3600 })}.`;
    await expectRefused(
      await me(t, `Bearer ${unsigned}`),
      "Token refused: invalid signature (only HS256 tokens are accepted).",
    );
  });

  it("says an expired token has expired", async () => {
    const t = await start();
    const { id } = await t.account("late@example.com");
    const expired = await sign({ sub: id, role: "user" }, SECRET, Math.floor(Date.now() / 1000) - 60);
    await expectRefused(await me(t, `Bearer ${expired}`), "Token refused: it has expired; log in again.");
  });

  it("refuses a valid token whose account is gone", async () => {
    const t = await start();
    const { token, id } = await t.account("gone@example.com");
    await t.database.db.delete(users).where(eq(users.id, id));
    await expectRefused(await me(t, `Bearer ${token}`), "Token refused: its account no longer exists.");
  });

  it("a token issued before a password change is refused; one from a login with the new password works", async () => {
    const t = await start();
    const { token, id } = await t.account("changer@example.com");
    await t.auth.users.setPassword(id, await hashPassword("a brand new password"));
    await expectRefused(
      await t.request("/api/auth/me", { token }),
      "Token refused: your password or role changed; log in again.",
    );
    const login = await t.request("/api/auth/login", {
      method: "POST",
      json: { email: "changer@example.com", password: "a brand new password" },
    });
    expect(login.status).toBe(200);
    const fresh = ((await login.json()) as { access_token: string }).access_token;
    expect((await t.request("/api/auth/me", { token: fresh })).status).toBe(200);
  });

  it("refuses a token without a version (one made before versions existed)", async () => {
    const t = await start();
    const { id } = await t.account("old@example.com");
    await expectRefused(
      await t.request("/api/auth/me", { token: await sign({ sub: id, role: "user" }) }),
      "Token refused: it lacks the subject, role, version or expiry it needs.",
    );
  });

  it("without JWT_SECRET, makes one secret in the database that a restarted server shares", async () => {
    const storage = await newStorage();
    const before = await openDb(storage);
    const first = await start({ jwtSecret: undefined }, { storage, database: before });
    const { token } = await first.account("restart@example.com");
    await before.close();

    const database = await openDb(storage);
    open.push(() => database.close());
    const second = await start({ jwtSecret: undefined }, { storage, database });
    expect((await second.request("/api/auth/me", { token })).status).toBe(200);
    // And it is not the configured test secret: a server with that one refuses the token.
    const other = await start({ jwtSecret: SECRET }, { storage, database });
    expect((await other.request("/api/auth/me", { token })).status).toBe(401);
  });
});

describe("OpenAPI", () => {
  it("describes the auth and admin routes with their bearer scheme", async () => {
    const t = await start();
    const response = await t.request("/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { paths: Json; components: { securitySchemes: Json } };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/me",
        "/api/auth/wallet/nonce",
        "/api/auth/wallet",
        "/api/admin/users",
        "/api/admin/users/{id}",
      ]),
    );
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });
});

describe("roles", () => {
  it("admin routes: anonymous 401, user 403, robot_owner 403, admin 200", async () => {
    const t = await start();
    const anonymous = await t.request("/api/admin/users");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    for (const role of ["user", "robot_owner"] as const) {
      const { token } = await t.account(`${role}@example.com`, role);
      const response = await t.request("/api/admin/users", { token });
      expect(response.status).toBe(403);
      expect(await detail(response)).toBe("Insufficient permissions: requires admin.");
      const patch = await t.request(`/api/admin/users/${crypto.randomUUID()}`, {
        method: "PATCH",
        token,
        json: { role: "admin" },
      });
      expect(patch.status).toBe(403);
    }
    const { token } = await t.account("admin@example.com", "admin");
    expect((await t.request("/api/admin/users", { token })).status).toBe(200);
  });

  it("requireRole on another domain's route: anonymous reads, owners and admins write", async () => {
    const t = await start();
    const user = await t.account("reader@example.com");
    const owner = await t.account("owner@example.com", "robot_owner");
    const admin = await t.account("root@example.com", "admin");

    expect(await (await t.request("/api/robots")).json()).toEqual({ caller: null });
    expect(await (await t.request("/api/robots", { token: user.token })).json()).toEqual({
      caller: "reader@example.com",
    });
    expect((await t.request("/api/robots", { token: "garbage" })).status).toBe(401);

    expect((await t.request("/api/robots", { method: "POST" })).status).toBe(401);
    const denied = await t.request("/api/robots", { method: "POST", token: user.token });
    expect(denied.status).toBe(403);
    expect(await detail(denied)).toBe("Insufficient permissions: requires robot_owner or admin.");
    expect((await t.request("/api/robots", { method: "POST", token: owner.token })).status).toBe(201);
    expect((await t.request("/api/robots", { method: "POST", token: admin.token })).status).toBe(201);
  });

  it("a demoted admin's old token is refused at once; a new login works, as a user", async () => {
    const t = await start();
    const first = await t.account("first@example.com", "admin");
    const second = await t.account("second@example.com", "admin");
    const demote = await t.request(`/api/admin/users/${first.id}`, {
      method: "PATCH",
      token: second.token,
      json: { role: "user" },
    });
    expect(demote.status).toBe(200);
    expect(((await demote.json()) as Json).role).toBe("user");
    for (const path of ["/api/admin/users", "/api/auth/me"]) {
      const refused = await t.request(path, { token: first.token });
      expect(refused.status).toBe(401);
      expect(await detail(refused)).toBe("Token refused: your password or role changed; log in again.");
    }
    const login = await t.request("/api/auth/login", {
      method: "POST",
      json: { email: "first@example.com", password: PASSWORD },
    });
    const { access_token } = (await login.json()) as { access_token: string };
    expect(((await (await t.request("/api/auth/me", { token: access_token })).json()) as Json).role).toBe(
      "user",
    );
    expect((await t.request("/api/admin/users", { token: access_token })).status).toBe(403);
    // Setting the role an account already has changes nothing, so its tokens stay good.
    const same = await t.request(`/api/admin/users/${first.id}`, {
      method: "PATCH",
      token: second.token,
      json: { role: "user" },
    });
    expect(same.status).toBe(200);
    expect((await t.request("/api/auth/me", { token: access_token })).status).toBe(200);
  });
});

describe("admin user management", () => {
  it("searches by email substring, filters by role, pages, and counts the matches", async () => {
    const t = await start();
    const admin = await t.account("admin@corp.example", "admin");
    await t.account("alice@corp.example");
    await t.account("bob@corp.example", "robot_owner");
    await t.account("carol@home.example");
    await t.account("under_score@home.example");
    const list = async (query: string) => {
      const response = await t.request(`/api/admin/users?${query}`, { token: admin.token });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { users: Array<{ email: string }>; total: number };
      return { emails: body.users.map((u) => u.email).sort(), total: body.total };
    };

    expect(await list("q=CORP")).toEqual({
      emails: ["admin@corp.example", "alice@corp.example", "bob@corp.example"],
      total: 3,
    });
    expect(await list("role=robot_owner")).toEqual({ emails: ["bob@corp.example"], total: 1 });
    expect(await list("q=corp&role=user")).toEqual({ emails: ["alice@corp.example"], total: 1 });
    // `_` is a letter in a search, not LIKE's wildcard.
    expect(await list("q=r_s")).toEqual({ emails: ["under_score@home.example"], total: 1 });
    const pages = [
      await list("limit=2&offset=0"),
      await list("limit=2&offset=2"),
      await list("limit=2&offset=4"),
    ];
    expect(pages.map((page) => page.total)).toEqual([5, 5, 5]);
    expect(pages.map((page) => page.emails.length)).toEqual([2, 2, 1]);
    expect(new Set(pages.flatMap((page) => page.emails)).size).toBe(5);

    const bad = await t.request("/api/admin/users?role=king&limit=0", { token: admin.token });
    expect(bad.status).toBe(422);
    expect(((await detail(bad)) as Array<{ loc: unknown[] }>).map((issue) => issue.loc)).toEqual([
      ["query", "role"],
      ["query", "limit"],
    ]);
  });

  it("changes a role; refuses an unknown id (404), a malformed id (422) and demoting the last admin (409)", async () => {
    const t = await start();
    const admin = await t.account("only-admin@example.com", "admin");
    const user = await t.account("promote-me@example.com");
    const patch = (id: string, role: string) =>
      t.request(`/api/admin/users/${id}`, { method: "PATCH", token: admin.token, json: { role } });

    const promoted = await patch(user.id, "robot_owner");
    expect(promoted.status).toBe(200);
    expect(await promoted.json()).toMatchObject({ id: user.id, role: "robot_owner" });

    const unknown = await patch(crypto.randomUUID(), "user");
    expect(unknown.status).toBe(404);
    expect(await detail(unknown)).toMatch(/^No account with id /);
    expect((await patch("42", "user")).status).toBe(422);

    const self = await patch(admin.id, "user");
    expect(self.status).toBe(409);
    expect(await detail(self)).toBe(
      "This is the last admin account: promote another account to admin before changing this one.",
    );
    // With a second admin, the first may step down.
    expect((await patch(user.id, "admin")).status).toBe(200);
    expect((await patch(admin.id, "user")).status).toBe(200);
  });
});

describe("wallet linking (SIWE)", () => {
  const newWallet = () => privateKeyToAccount(generatePrivateKey());

  const challenge = async (t: Harness, token: string, wallet: PrivateKeyAccount) => {
    const response = await t.request("/api/auth/wallet/nonce", {
      method: "POST",
      token,
      json: { address: wallet.address },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { nonce: string; message: string };
  };

  const link = (t: Harness, token: string, message: string, signature: string) =>
    t.request("/api/auth/wallet", { method: "POST", token, json: { message, signature } });

  it("links the wallet that signed the server's message, shows it on /me, and unlinks it", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const wallet = newWallet();
    const { nonce, message } = await challenge(t, alice.token, wallet);
    const fields = parseSiweMessage(message);
    expect(fields).toMatchObject({
      address: wallet.address,
      domain: new URL(t.url).host,
      uri: t.url,
      chainId: 31337,
      nonce,
      version: "1",
      statement: "Link this wallet to the robo402 account alice@example.com.",
    });

    const linked = await link(t, alice.token, message, await wallet.signMessage({ message }));
    expect(linked.status).toBe(200);
    expect(await linked.json()).toMatchObject({ wallet_address: wallet.address.toLowerCase() });
    const me = await t.request("/api/auth/me", { token: alice.token });
    expect(await me.json()).toMatchObject({ wallet_address: wallet.address.toLowerCase() });

    const unlinked = await t.request("/api/auth/wallet", { method: "DELETE", token: alice.token });
    expect(unlinked.status).toBe(200);
    expect(await unlinked.json()).toMatchObject({ wallet_address: null });
  });

  it("needs a signed-in account", async () => {
    const t = await start();
    const nonce = await t.request("/api/auth/wallet/nonce", {
      method: "POST",
      json: { address: newWallet().address },
    });
    expect(nonce.status).toBe(401);
    expect((await t.request("/api/auth/wallet", { method: "DELETE" })).status).toBe(401);
  });

  it("refuses another account's nonce", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const bob = await t.account("bob@example.com");
    const wallet = newWallet();
    const { message } = await challenge(t, bob.token, wallet);
    const response = await link(t, alice.token, message, await wallet.signMessage({ message }));
    expect(response.status).toBe(400);
    expect(await detail(response)).toBe("Wallet link refused: the nonce was issued to another account.");
  });

  it("refuses a nonce used once already", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const wallet = newWallet();
    const { message } = await challenge(t, alice.token, wallet);
    const signature = await wallet.signMessage({ message });
    expect((await link(t, alice.token, message, signature)).status).toBe(200);
    const again = await link(t, alice.token, message, signature);
    expect(again.status).toBe(400);
    expect(await detail(again)).toBe("Wallet link refused: the nonce was already used; request a new one.");
  });

  it("refuses a nonce this server never issued", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const wallet = newWallet();
    const { message } = await challenge(t, alice.token, wallet);
    const invented = message.replace(/Nonce: \w+/, "Nonce: inventedNonce123");
    const response = await link(t, alice.token, invented, await wallet.signMessage({ message: invented }));
    expect(response.status).toBe(400);
    expect(await detail(response)).toBe(
      "Wallet link refused: the nonce is unknown or expired; request a new one from /api/auth/wallet/nonce.",
    );
  });

  it("refuses a message for another domain or URI, and an expired one", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const wallet = newWallet();
    const origin = new URL(t.url);
    const signedFor = async (changes: Partial<Parameters<typeof createSiweMessage>[0]>) => {
      const { nonce } = await challenge(t, alice.token, wallet);
      const message = createSiweMessage({
        address: wallet.address,
        chainId: 31337,
        domain: origin.host,
        uri: origin.origin,
        version: "1",
        nonce,
        ...changes,
      });
      return link(t, alice.token, message, await wallet.signMessage({ message }));
    };

    const domain = await signedFor({ domain: "evil.example", uri: "https://evil.example" });
    expect(domain.status).toBe(400);
    expect(await detail(domain)).toBe(
      `Wallet link refused: the message is for 'evil.example', not '${origin.host}'.`,
    );
    const uri = await signedFor({ uri: "https://evil.example/login" });
    expect(uri.status).toBe(400);
    expect(await detail(uri)).toBe(
      `Wallet link refused: the message's URI 'https://evil.example/login' is not on ${origin.origin}.`,
    );
    const expired = await signedFor({ expirationTime: new Date(Date.now() - 60_000) });
    expect(expired.status).toBe(400);
    expect(await detail(expired)).toBe(
      "Wallet link refused: the message has expired, is not yet valid, or is malformed.",
    );
    // The same construction, unaltered, is accepted: the refusals above were the changes.
    expect((await signedFor({})).status).toBe(200);
  });

  it("refuses a signature made by another key", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const claimed = newWallet();
    const { message } = await challenge(t, alice.token, claimed);
    const response = await link(t, alice.token, message, await newWallet().signMessage({ message }));
    expect(response.status).toBe(400);
    expect(await detail(response)).toBe(
      `Wallet link refused: the signature was not made by ${claimed.address}.`,
    );
    const garbage = await link(t, alice.token, message, "0xdeadbeef");
    expect(garbage.status).toBe(400);
  });

  it("refuses a wallet linked to another account (409) until that account unlinks it", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const bob = await t.account("bob@example.com");
    const wallet = newWallet();
    const proof = async (token: string) => {
      const { message } = await challenge(t, token, wallet);
      return link(t, token, message, await wallet.signMessage({ message }));
    };
    expect((await proof(bob.token)).status).toBe(200);
    const taken = await proof(alice.token);
    expect(taken.status).toBe(409);
    expect(await detail(taken)).toBe(
      `Wallet ${wallet.address.toLowerCase()} is already linked to another account.`,
    );

    expect((await t.request("/api/auth/wallet", { method: "DELETE", token: bob.token })).status).toBe(200);
    expect((await proof(alice.token)).status).toBe(200);
  });

  it("binds messages to the configured origin (PUBLIC_URL), not to the address the request came in on", async () => {
    const t = await start({ origins: new SignInOrigins(["https://robots.example.com"]), chainId: 8453 });
    const alice = await t.account("alice@example.com");
    const wallet = newWallet();
    const { message } = await challenge(t, alice.token, wallet);
    expect(parseSiweMessage(message)).toMatchObject({
      domain: "robots.example.com",
      uri: "https://robots.example.com",
      chainId: 8453,
    });
    expect((await link(t, alice.token, message, await wallet.signMessage({ message }))).status).toBe(200);
  });

  it("refuses a message signed for another site even when the request's Host names that site", async () => {
    const t = await start();
    const alice = await t.account("alice@example.com");
    const victim = newWallet();
    const { nonce } = await challenge(t, alice.token, victim);
    // A phishing page at evil.example had the victim sign our nonce for its own domain.
    const phished = createSiweMessage({
      address: victim.address,
      chainId: 31337,
      domain: "evil.example",
      uri: "http://evil.example",
      version: "1",
      nonce,
    });
    const signature = await victim.signMessage({ message: phished });
    const refused = await withHost(t, "evil.example", "/api/auth/wallet", alice.token, {
      message: phished,
      signature,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toBe(
      `Wallet link refused: the message is for 'evil.example', not '${new URL(t.url).host}'.`,
    );
    // The challenge names the configured origin whatever Host the request claims.
    const asked = await withHost(t, "evil.example", "/api/auth/wallet/nonce", alice.token, {
      address: victim.address,
    });
    const { message } = asked.body as { message: string };
    expect(parseSiweMessage(message)).toMatchObject({ domain: new URL(t.url).host, uri: t.url });
    const linked = await withHost(t, "evil.example", "/api/auth/wallet", alice.token, {
      message,
      signature: await victim.signMessage({ message }),
    });
    expect(linked.status).toBe(200);
  });
});

/** A JSON POST whose Host header claims `host` (fetch always sends the real one). */
function withHost(t: Harness, host: string, path: string, token: string, json: unknown) {
  const target = new URL(t.url);
  const body = JSON.stringify(json);
  return new Promise<{ status: number; body: Json }>((resolve, reject) => {
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: "POST",
        headers: { host, authorization: `Bearer ${token}`, "content-type": "application/json" },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("first admin", () => {
  it("the bootstrap creates the admin once, then leaves it be; it never promotes someone else's account", async () => {
    const t = await start();
    const created = await t.auth.bootstrapAdmin("Root@Example.com", "first password");
    expect(created).toMatchObject({ email: "root@example.com", role: "admin" });
    // A restart with another ADMIN_PASSWORD changes nothing: the admin's password is its own.
    expect(await t.auth.bootstrapAdmin("root@example.com", "second password")).toEqual(created);

    const squatter = await t.account("taken@example.com");
    await expect(t.auth.bootstrapAdmin("taken@example.com", "admin password")).rejects.toThrow(
      new AdminEmailTakenError("taken@example.com"),
    );
    expect((await t.auth.account(squatter.id)).role).toBe("user");
    expect((await t.request("/api/auth/me", { token: squatter.token })).status).toBe(200);
  });

  it("ensureAdmin (npm run admin -- create, an operator's act) promotes and re-passwords an account", async () => {
    const t = await start();
    await t.account("later@example.com");
    const promoted = await ensureAdmin(t.auth.users, "later@example.com", "new password!");
    expect(promoted.role).toBe("admin");
    const login = await t.request("/api/auth/login", {
      method: "POST",
      json: { email: "later@example.com", password: "new password!" },
    });
    expect(login.status).toBe(200);
    const old = await t.request("/api/auth/login", {
      method: "POST",
      json: { email: "later@example.com", password: PASSWORD },
    });
    expect(old.status).toBe(401);
  });

  const root = fileURLToPath(new URL("../../..", import.meta.url));
  const cli = (args: string[], env: Record<string, string>, stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      // Run from the temporary data directory so a developer's .env cannot point it elsewhere.
      const child = execFile(
        `${root}node_modules/.bin/tsx`,
        [`${root}apps/server/src/cli/admin.ts`, ...args],
        { cwd: env.DATA_DIR ?? root, env: { PATH: process.env.PATH ?? "", ...env } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(stdin ?? "");
    });

  it("npm run admin -- create makes an admin who can log in; promote raises an existing account", async () => {
    const storage = await newStorage();
    const created = await cli(["create", "Boss@Example.com"], {
      ...storage.env,
      ADMIN_PASSWORD: "boss password",
    });
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^boss@example\.com is an admin/);

    // Password asked for on stdin when ADMIN_PASSWORD is not set.
    const piped = await cli(["create", "deputy@example.com"], storage.env, "deputy password\n");
    expect(piped.code).toBe(0);

    const missing = await cli(["promote", "nobody@example.com"], storage.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No account with email nobody@example.com.");

    const before = await openDb(storage);
    await (await start({}, { storage, database: before })).account("member@example.com");
    await before.close();
    const promoted = await cli(["promote", "member@example.com"], storage.env);
    expect(promoted.code).toBe(0);

    const database = await openDb(storage);
    open.push(() => database.close());
    const after = await start({}, { storage, database });
    for (const [email, password] of [
      ["boss@example.com", "boss password"],
      ["deputy@example.com", "deputy password"],
      ["member@example.com", PASSWORD],
    ]) {
      const login = await after.request("/api/auth/login", { method: "POST", json: { email, password } });
      expect(login.status).toBe(200);
      const { access_token } = (await login.json()) as { access_token: string };
      expect((await after.request("/api/admin/users", { token: access_token })).status).toBe(200);
    }
    // Four CLI processes, each opening the PGlite directory: 29 s of a busy CI machine's 30 s default.
  }, 90_000);

  it("npm run admin explains its usage and refuses a bad email", async () => {
    const storage = await newStorage();
    const usage = await cli(["demote", "x@example.com"], storage.env);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("npm run admin -- create <email>");
    const bad = await cli(["create", "not-an-email"], { ...storage.env, ADMIN_PASSWORD: "boss password" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'not-an-email' must be an email address");
  });
});
