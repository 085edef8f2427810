import type { LookupAddress } from "node:dns";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RobotEntry } from "../src/robots/controlled.ts";
import type { RobotDriver } from "../src/robots/driver.ts";
import type { TimeKind } from "../src/robots/drivers/kind.ts";
import { tumbllerKind } from "../src/robots/drivers/tumbller.ts";
import { velocityKind } from "../src/robots/drivers/velocity.ts";
import { addressGuard } from "../src/robots/endpoint-guard.ts";
import { LocalNameResolver } from "../src/robots/resolver.ts";

// A board that answers everything, on every loopback address (IPv4 and IPv6), counting what reaches it.
let board: Server;
let port: number;
let reached = 0;
beforeAll(async () => {
  board = createServer((req, res) => {
    reached++;
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end(req.url === "/info" ? '{"hostname":"owners-bot","ip":"127.0.0.1"}' : "");
  });
  await new Promise<void>((resolve) => board.listen(0, "::", resolve));
  port = (board.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => board.close(resolve)));

const ownersRobot = (host: string): RobotEntry => ({
  id: "owners-bot",
  driver: "tumbller",
  motorUrl: `http://${host}:${port}`,
  cameraUrl: `http://${host}:${port}`,
  ownerId: "00000000-0000-4000-8000-000000000001",
});

/** The robot's kind's driver (a Tumbller's unless given), its owner's connections guarded, with DNS answering `addresses`. */
function driverResolving(
  entry: RobotEntry,
  addresses: LookupAddress[],
  allowedNetworks: string[] = [],
  kind: TimeKind = tumbllerKind,
) {
  const lookups: string[] = [];
  const ownersGuard = addressGuard({ allowedNetworks }, async (hostname) => {
    lookups.push(hostname);
    return addresses;
  });
  const driver: RobotDriver = kind.driver(entry, {
    resolver: new LocalNameResolver(),
    timeoutMs: 2000,
    cameraTimeoutMs: 2000,
    ownersGuard,
  });
  return { driver, lookups };
}

describe("an owner's HTTP drive robot behind the connect-time address guard", () => {
  it.each([
    ["127.0.0.1", 4, "a loopback address"],
    ["10.0.0.7", 4, "a private address"],
    ["169.254.1.1", 4, "a link-local address"],
    ["::1", 6, "a loopback address"],
  ] as const)("sends nothing when its name resolves to %s at connect time", async (address, family, kind) => {
    const { driver, lookups } = driverResolving(ownersRobot("owners-bot.example.com"), [{ address, family }]);
    const before = reached;
    const refusal = new RegExp(
      `refused by the platform: owners-bot\\.example\\.com resolves to ${address}, which is ${kind}`,
    );
    await expect(driver.command("forward")).rejects.toThrow(refusal);
    await expect(driver.info()).rejects.toThrow(refusal);
    await expect(driver.frame()).rejects.toThrow(refusal);
    expect(lookups).toContain("owners-bot.example.com");
    expect(reached - before).toBe(0);
  });

  it("reaches the same board when the operator allows its network, so the refusals above are the guard's", async () => {
    const { driver } = driverResolving(
      ownersRobot("owners-bot.example.com"),
      [{ address: "127.0.0.1", family: 4 }],
      ["127.0.0.0/8"],
    );
    const before = reached;
    await driver.command("forward");
    expect(await driver.info()).toEqual({ name: "owners-bot", ip: "127.0.0.1" });
    expect(reached - before).toBe(2);
  });

  it("sends a velocity rover's commands, over kept connections, only where the guard allows", async () => {
    const rover: RobotEntry = { ...ownersRobot("owners-rover.example.com"), driver: "velocity" };
    const refused = driverResolving(rover, [{ address: "127.0.0.1", family: 4 }], [], velocityKind);
    const before = reached;
    await expect(refused.driver.velocity?.({ linear: 0.5, angular: 0 })).rejects.toThrow(
      /refused by the platform: owners-rover\.example\.com resolves to 127\.0\.0\.1, which is a loopback address/,
    );
    expect(reached - before).toBe(0);
    const allowed = driverResolving(
      rover,
      [{ address: "127.0.0.1", family: 4 }],
      ["127.0.0.0/8"],
      velocityKind,
    );
    await allowed.driver.velocity?.({ linear: 0.5, angular: 0 });
    await allowed.driver.velocity?.({ linear: 0, angular: 0 });
    expect(reached - before).toBe(2);
  });

  it("sends nothing to an owner's robot written as a loopback IP, which no lookup sees", async () => {
    const { driver, lookups } = driverResolving(ownersRobot("127.0.0.1"), []);
    const before = reached;
    await expect(driver.command("forward")).rejects.toThrow(
      /refused by the platform: 127\.0\.0\.1 is a loopback address/,
    );
    expect(lookups).toEqual([]);
    expect(reached - before).toBe(0);
  });

  it("calls the operator's own robots directly, as configured", async () => {
    const operators: RobotEntry = { ...ownersRobot("127.0.0.1"), ownerId: undefined };
    const { driver, lookups } = driverResolving(operators, []);
    const before = reached;
    await driver.command("stop");
    expect(reached - before).toBe(1);
    expect(lookups).toEqual([]);
  });

  it("refuses to build an owner's driver without the guard", () => {
    expect(() =>
      tumbllerKind.driver(ownersRobot("owners-bot.example.com"), {
        resolver: new LocalNameResolver(),
        timeoutMs: 2000,
        cameraTimeoutMs: 2000,
      } as never),
    ).toThrow(/only through the address guard/);
  });
});
