import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { DEV_ACCOUNTS, TEST_USDC } from "@robo402/devchain";
import { startBridge, Tumbller } from "@robo402/robot-link";
import { type RobotSim, startRobotSim } from "@robo402/robot-sim";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { createPublicClient, erc20Abi, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { robotsEnv, type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// Debian's Chromium (apt-get install -y chromium); .ci/run installs it.
const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const ROBOT = "finland-tumbller-01";
// The web app's dev wallet: anvil's account #2, funded with test USDC by devchain.
const DEV_WALLET = DEV_ACCOUNTS[2]?.address as `0x${string}`;
const ADMIN = { email: "admin@example.com", password: "admin password 1" };
const PRICE = 100_000n; // $0.10 in 6-decimal test USDC

if (!existsSync(CHROMIUM))
  console.warn(`e2e/web.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!existsSync(CHROMIUM))("the portals in Chromium, against the server on devchain", () => {
  let sims: RobotSim[] = [];
  let storage: TestStorage;
  let server: ServerProcess;
  let browser: Browser;
  let usdcBalance: () => Promise<bigint>;

  beforeAll(async () => {
    // Always this checkout's pages: a stale build would test old code.
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    mkdirSync(SHOTS, { recursive: true });
    sims = await Promise.all([ROBOT, "finland-tumbller-02"].map((name) => startRobotSim({ name })));
    storage = await testStorage();
    server = await startServer({
      SIMULATED_ROBOTS: "",
      ROBOTS: robotsEnv(sims),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ...storage.env,
    });
    const rpcUrl = String(server.logs.find((entry) => entry.chain_rpc)?.chain_rpc);
    const chain = createPublicClient({ transport: http(rpcUrl) });
    usdcBalance = () =>
      chain.readContract({
        address: TEST_USDC.address as `0x${string}`,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [DEV_WALLET],
      });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await Promise.all(sims.map((sim) => sim.close()));
    await storage?.drop();
  });

  const open = async (context: BrowserContext, path: string): Promise<Page> => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${server.url}${path}`);
    return page;
  };

  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true, animations: "disabled" });

  /** axe-core's serious and critical violations on the page as it is now. */
  const accessibilityProblems = async (page: Page) => {
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (
        window as unknown as { axe: { run(): Promise<{ violations: Array<Record<string, unknown>> }> } }
      ).axe;
      return (await axe.run()).violations;
    });
    return violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => `${violation.id}: ${violation.help}`);
  };

  const signIn = async (page: Page, email: string, password: string) => {
    page.setDefaultTimeout(10_000);
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Email").waitFor();
    await shoot(page, "login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/dashboard/);
  };

  it("a newcomer picks finland-tumbller-01, pays with the dev wallet, drives it and lets go", async () => {
    const before = await usdcBalance();
    const context = await browser.newContext();
    const page = await open(context, "/");
    await page.getByRole("heading", { name: ROBOT }).waitFor();
    await shoot(page, "home");
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole("link", { name: new RegExp(ROBOT) }).click();
    await page.waitForURL(/\/robots\/[0-9a-f-]{36}$/);
    await page.getByText("The robot is online.").waitFor();
    await shoot(page, "robot");
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole("button", { name: /^Buy 10 minutes for 0\.10/ }).click();
    const dialog = page.getByRole("dialog", { name: "Payment required" });
    await expect.poll(() => dialog.getByTestId("payment-amount").textContent()).toBe("0.10 USDC");
    await expect.poll(() => dialog.textContent()).toContain("Local test chain");
    await shoot(page, "payment-modal");
    await dialog.getByRole("button", { name: /with the dev wallet/ }).click();
    await expect.poll(() => dialog.getByTestId("payment-stage").textContent()).toBe("Payment confirmed");
    await shoot(page, "payment-confirmed");
    expect(await usdcBalance()).toBe(before - PRICE);
    // The confirmed payment closes itself, and the page only ever saw the paid answer.
    await dialog.waitFor({ state: "hidden" });
    await page.getByTestId("countdown").waitFor();

    // The live camera: the server's MJPEG stream in an <img>, with the session token in its URL.
    const camera = page.getByTestId("camera");
    await expect
      .poll(() => camera.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
      .toBe(true);
    expect(await camera.getAttribute("src")).toMatch(/^\/api\/v1\/robot\/camera\/stream\?token=/);
    const firstFrame = await camera.screenshot();
    const sim = sims[0] as RobotSim;
    const start = sim.pose();
    const forwards = () => sim.commands().filter((entry) => entry.command === "forward").length;

    await page.keyboard.down("ArrowUp");
    // A held key repeats its command (every 300 ms), so the robot keeps going past its own 2 s stop.
    await expect.poll(() => forwards(), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const moved = sim.pose();
    expect(Math.hypot(moved.x - start.x, moved.y - start.y)).toBeGreaterThan(0.05);
    await expect
      .poll(async () => (await camera.screenshot()).equals(firstFrame), { timeout: 5000 })
      .toBe(false);
    await shoot(page, "driving");
    await page.keyboard.up("ArrowUp");
    await expect.poll(() => sim.commands().at(-1)?.command).toBe("stop");

    // WASD too; the window losing focus lets go of the held key.
    const count = (command: string) => sim.commands().filter((entry) => entry.command === command).length;
    const backs = count("back");
    await page.keyboard.down("KeyS");
    await expect.poll(() => count("back"), { timeout: 5000 }).toBeGreaterThanOrEqual(backs + 2);
    await page.evaluate(() => window.dispatchEvent(new Event("blur")));
    await expect.poll(() => sim.commands().at(-1)?.command).toBe("stop");
    await page.keyboard.up("KeyS");

    // The on-screen buttons hold the same way (mouse here; touch is the same pointer events).
    const lefts = count("left");
    await page.getByRole("button", { name: "Drive left (hold)" }).hover();
    await page.mouse.down();
    await expect.poll(() => count("left"), { timeout: 5000 }).toBeGreaterThanOrEqual(lefts + 2);
    await page.mouse.up();
    await expect.poll(() => sim.commands().at(-1)?.command).toBe("stop");

    // Anyone else sees the robot busy, and when it frees up.
    const other = await open(await browser.newContext(), page.url().replace(server.url, ""));
    await expect
      .poll(() => other.getByTestId("robot-state").textContent())
      .toMatch(/In use by .+; it frees up at/);
    await shoot(other, "robot-busy");
    await other.context().close();

    await page.getByRole("button", { name: "Release the robot" }).click();
    await page.getByText(/Your session has ended/).waitFor();
    const listed = (await (await fetch(`${server.url}/api/v1/robots`)).json()) as Array<{
      robot_host: string;
      available: boolean;
    }>;
    expect(listed.find((entry) => entry.robot_host === ROBOT)?.available).toBe(true);
    expect(await usdcBalance()).toBe(before - PRICE);
    await context.close();
  }, 90_000);

  it("a service robot: the form's call is paid through the same modal and its result shown", async () => {
    const before = await usdcBalance();
    const context = await browser.newContext();
    const page = await open(context, "/robots");
    await page.getByLabel("Service").selectOption("data-analysis");
    await shoot(page, "robots");
    await page.getByRole("link", { name: /sim-data-analysis/ }).click();
    await page.getByLabel("Input (JSON)").fill('{"values": [3, 1, 4, 1, 5, 9, 2, 6]}');
    await page.getByRole("button", { name: "Run data-analysis (0.02 USDC)" }).click();
    const dialog = page.getByRole("dialog", { name: "Payment required" });
    await expect.poll(() => dialog.getByTestId("payment-amount").textContent()).toBe("0.02 USDC");
    await dialog.getByRole("button", { name: /with the dev wallet/ }).click();
    await expect.poll(() => page.getByTestId("result").textContent()).toContain('"mean": 3.875');
    await shoot(page, "service-result");
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(await usdcBalance()).toBe(before - 20_000n);

    // Input the robot refuses: the robot runs before money moves, so the signed payment is never
    // settled, and the robot's reason is shown in words, in the modal and on the page.
    const after = await usdcBalance();
    await page.getByLabel("Input (JSON)").fill('{"values": "many"}');
    await page.getByRole("button", { name: "Run data-analysis (0.02 USDC)" }).click();
    await dialog.getByRole("button", { name: /with the dev wallet/ }).click();
    await expect.poll(() => dialog.getByTestId("payment-stage").textContent()).toBe("Payment failed");
    await shoot(page, "service-error");
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => page.locator("main").getByRole("alert").textContent()).toMatch(/values/);
    expect(await usdcBalance()).toBe(after);
    await context.close();
  });

  it("is usable on a phone: the robot page fits the screen", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true });
    const page = await open(context, "/robots");
    await page.getByRole("link", { name: new RegExp(ROBOT) }).click();
    await page.getByText("The robot is online.").waitFor();
    await shoot(page, "robot-phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await context.close();
  });

  it("says in words what the API refused, and survives a reload on a client-side route", async () => {
    const context = await browser.newContext();
    const page = await open(context, "/register");
    await page.getByLabel("Email").fill("short@example.com");
    await page.getByLabel("Password").fill("short");
    // The browser's own check would stop a too-short password only with minLength; the API's answer is shown.
    await page.getByRole("button", { name: "Create account" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("password: must be at least 8 characters");
    await page.goto(`${server.url}/robots/00000000-0000-4000-8000-000000000000`);
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not found|no robot/i);
    await context.close();
  });

  it("an owner connects a robot at home over the link from the form, edits it, and replaces its token", async () => {
    const HOST = "home-tumbller-01";
    const email = "home-owner@example.com";
    const password = "home owner password";
    const registered = await fetch(`${server.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password, role: "robot_owner" }),
    });
    expect(registered.status).toBe(201);
    const context = await browser.newContext();
    const owner = await context.newPage();
    await signIn(owner, email, password);
    await owner.goto(`${server.url}/dashboard/robots/new`);
    // The link is what the form offers first, and says why.
    expect(await owner.getByLabel("Kind").inputValue()).toBe("link");
    await owner.getByText(/it works behind a home router/).waitFor();
    await owner.getByLabel("Name", { exact: true }).fill("Home Tumbller");
    await owner.getByLabel("Price per session (USDC)").fill("0.10");
    await owner.getByLabel("Payout wallet").fill(DEV_ACCOUNTS[4]?.address ?? "");
    await owner.getByLabel("Robot name").fill(HOST);
    await owner.getByRole("button", { name: "Register robot" }).click();

    // Its device token, once, with the commands that use it.
    const token = (await owner.getByTestId("device-token").textContent()) ?? "";
    expect(token).toMatch(/^r4l_/);
    expect(await owner.locator("pre").textContent()).toContain(
      `npx robo402-link --platform ${server.url} --motor http://${HOST}.local`,
    );
    await shoot(owner, "connect-over-link");
    expect(await accessibilityProblems(owner)).toEqual([]);

    const sim = await startRobotSim({ name: HOST });
    const bridge = startBridge({
      platform: server.url,
      token,
      boards: new Tumbller(sim.motorUrl, sim.cameraUrl),
      backoffMs: 100,
    });
    try {
      const online = async () =>
        (
          (await (await fetch(`${server.url}/api/v1/robot/status?robot_host=${HOST}`)).json()) as {
            motor_online?: boolean;
          }
        ).motor_online;
      await expect.poll(online, { timeout: 15_000 }).toBe(true);

      await owner.getByRole("button", { name: "Done" }).click();
      await owner.waitForURL(/\/dashboard\/robots$/);
      await expect.poll(() => owner.getByTestId("my-robots").textContent()).toContain("Home Tumbller");
      // The list says whether the robot's bridge is connected, and buyers see it for sale.
      expect(await owner.getByTestId("my-robots").textContent()).toContain("online over its link");
      const card = () => owner.getByRole("link", { name: /Home Tumbller/ }).textContent();
      await owner.goto(`${server.url}/robots`);
      expect(await card()).toContain("Available");
      await owner.goto(`${server.url}/dashboard/robots`);

      // Editing a drive robot saves (it sends neither services nor an endpoint it does not have).
      await owner.getByRole("link", { name: "Edit" }).first().click();
      await owner.getByLabel("Price per session (USDC)").fill("0.20");
      await owner.getByRole("button", { name: "Save changes" }).click();
      await owner.waitForURL(/\/dashboard\/robots$/);
      const listed = (await (await fetch(`${server.url}/api/robots`)).json()) as {
        robots: Array<{ host: string | null; price: string }>;
      };
      expect(listed.robots.find((robot) => robot.host === HOST)?.price).toMatch(/^0\.20*$/);

      // A new token: shown once, and the link made with the old one closes for good.
      await owner.getByRole("link", { name: "Edit" }).first().click();
      await owner.getByRole("button", { name: "New device token" }).click();
      const fresh = (await owner.getByTestId("device-token").textContent()) ?? "";
      expect(fresh).toMatch(/^r4l_/);
      expect(fresh).not.toBe(token);
      expect(await bridge.done).toMatchObject({ code: 4401 });
      await owner.getByRole("button", { name: "Done" }).click();
      await expect
        .poll(() => owner.getByTestId("my-robots").textContent(), { timeout: 15_000 })
        .toContain("offline: its bridge is not connected");
      await owner.goto(`${server.url}/robots`);
      expect(await card()).toContain("Offline");
    } finally {
      await bridge.close();
      await sim.close();
      await context.close();
    }
  });

  it("an owner registers a robot and sees it in the list; an admin changes the owner's role", async () => {
    const context = await browser.newContext();
    const owner = await open(context, "/register");
    await shoot(owner, "register");
    expect(await accessibilityProblems(owner)).toEqual([]);
    await owner.getByLabel("Email").fill("owner@example.com");
    await owner.getByLabel("Password").fill("owner password");
    await owner.getByLabel("Account type").selectOption("robot_owner");
    await owner.getByRole("button", { name: "Create account" }).click();
    await owner.waitForURL(/\/dashboard\/robots$/);
    await owner.getByRole("link", { name: "Register a robot" }).click();
    await owner.getByLabel("Kind").selectOption("http-service");
    await owner.getByLabel("Name").fill("Owner's arm");
    await owner.getByLabel("Price per call (USDC)").fill("0.03");
    await owner.getByLabel("Payout wallet").fill(DEV_ACCOUNTS[3]?.address ?? "");
    await owner.getByLabel("Services").fill("pick-and-place");
    // A public address: registration refuses private ones (SSRF guard); nothing calls it in this test.
    await owner.getByLabel("Endpoint").fill("http://8.8.8.8/execute");
    await shoot(owner, "register-robot");
    await owner.getByRole("button", { name: "Register robot" }).click();
    await owner.waitForURL(/\/dashboard\/robots$/);
    await expect.poll(() => owner.getByTestId("my-robots").textContent()).toContain("Owner's arm");
    await owner.getByRole("heading", { name: "Metrics of Owner's arm" }).waitFor();
    await owner.getByText("Executions per day").waitFor();
    await shoot(owner, "owner-robots");
    expect(await accessibilityProblems(owner)).toEqual([]);
    const catalog = (await (await fetch(`${server.url}/api/robots`)).json()) as {
      robots: Array<{ name: string }>;
    };
    expect(catalog.robots.map((robot) => robot.name)).toContain("Owner's arm");
    await context.close();

    const adminContext = await browser.newContext();
    const admin = await adminContext.newPage();
    await signIn(admin, ADMIN.email, ADMIN.password);
    await admin.getByRole("heading", { name: "Payments" }).waitFor();
    await shoot(admin, "dashboard");
    expect(await accessibilityProblems(admin)).toEqual([]);
    await admin.goto(`${server.url}/admin`);
    const role = admin.getByLabel("Role of owner@example.com");
    await expect.poll(() => role.inputValue()).toBe("robot_owner");
    await shoot(admin, "admin");
    expect(await accessibilityProblems(admin)).toEqual([]);
    await role.selectOption("user");
    await expect.poll(() => role.inputValue()).toBe("user");

    const login = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "owner@example.com", password: "owner password" }),
    });
    expect(((await login.json()) as { user: { role: string } }).user.role).toBe("user");
    await adminContext.close();
  });
});
