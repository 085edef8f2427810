import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startVelocityRobot, type VelocityRobot } from "@robo402/robot-sim";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStorage, testStorage } from "../apps/server/test/helpers.ts";
import { type ServerProcess, startServer } from "./harness.ts";

// Debian's Chromium (apt-get install -y chromium); .ci/run installs it.
const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROVER = "finland-rover-01";
const MAX_LINEAR = 0.4;

if (!existsSync(CHROMIUM))
  console.warn(`e2e/web-velocity.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!existsSync(CHROMIUM))("the drive panel drives a velocity robot in Chromium", () => {
  let rover: VelocityRobot;
  let storage: TestStorage;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // Always this checkout's pages: a stale build would test old code.
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    // Its own watchdog is a minute away: speeds back at zero within the test came from the page's stop.
    rover = await startVelocityRobot({ name: ROVER, limits: { watchdogMs: 60_000 } });
    storage = await testStorage();
    server = await startServer({
      SIMULATED_ROBOTS: "",
      SIMULATED_SERVICES: "false",
      ROBOTS: JSON.stringify([
        {
          host: ROVER,
          driver: "velocity",
          motor_url: rover.url,
          camera_url: rover.cameraUrl,
          settings: { max_linear: MAX_LINEAR, max_angular: 1, watchdog_ms: 1000 },
        },
      ]),
      ...storage.env,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await rover?.close();
    await storage?.drop();
  });

  it("buys the rover, drives it from held keys and the drag pad, and every letting go stops it", async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole("link", { name: new RegExp(ROVER) }).click();
    await page.getByText("The robot is online.").waitFor();
    await page.getByRole("button", { name: /^Buy 10 minutes/ }).click();
    const dialog = page.getByRole("dialog", { name: "Payment required" });
    await dialog.getByRole("button", { name: /with the dev wallet/ }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByTestId("countdown").waitFor();

    // Held keys: forward at the owner's full speed while held; the pose moves along its heading.
    const start = rover.pose();
    await page.keyboard.down("ArrowUp");
    await expect.poll(() => rover.pose().linear).toBeCloseTo(MAX_LINEAR, 9);
    await expect.poll(() => rover.pose().x, { timeout: 5000 }).toBeGreaterThan(start.x + 0.05);
    await page.keyboard.up("ArrowUp");
    await expect.poll(() => rover.pose()).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command" });

    // The window losing focus lets go of a held key.
    await page.keyboard.down("KeyW");
    await expect.poll(() => rover.pose().linear).toBeGreaterThan(0);
    await page.evaluate(() => window.dispatchEvent(new Event("blur")));
    await expect.poll(() => rover.pose()).toMatchObject({ linear: 0, angular: 0 });
    await page.keyboard.up("KeyW");

    // The drag pad: up and to the left of its centre is forward while turning left.
    const box = await page.getByTestId("velocity-pad").boundingBox();
    if (!box) throw new Error("no drive pad on the page");
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const heading = rover.pose().heading;
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down();
    await page.mouse.move(centre.x - box.width / 4, centre.y - box.height / 4, { steps: 4 });
    await expect.poll(() => rover.pose().angular).toBeGreaterThan(0);
    expect(rover.pose().linear).toBeGreaterThan(0);
    await expect.poll(() => rover.pose().heading).not.toBe(heading);
    await page.mouse.up();
    await expect.poll(() => rover.pose()).toMatchObject({ linear: 0, angular: 0, stoppedBy: "command" });
    await expect.poll(() => page.getByTestId("velocity").textContent()).toBe("stopped");
  }, 90_000);
});
