import { describe, expect, it } from "vitest";
import { ControlledRobots, parseRobots } from "../src/robots/controlled.ts";
import { defaultAddresses } from "../src/robots/drivers/tumbller.ts";
import { LocalNameResolver } from "../src/robots/resolver.ts";

describe("robot registry", () => {
  it("applies the plan's address rules", () => {
    expect(defaultAddresses("finland-tumbller-01")).toEqual({
      motorUrl: "http://finland-tumbller-01.local",
      cameraUrl: "http://finland-tumbller-01-cam.local",
    });
    expect(defaultAddresses("192.168.1.50")).toEqual({
      motorUrl: "http://192.168.1.50",
      cameraUrl: "http://192.168.1.50",
    });
  });

  it("parses comma lists and JSON entries with explicit addresses", () => {
    const robots = parseRobots(
      '[ "Lab-Bot", {"host":"rover-1","motor_url":"http://10.0.0.5/","camera_url":"http://10.0.0.6"} ]',
      "ROBOTS",
    );
    expect(robots).toEqual([
      {
        id: "lab-bot",
        driver: "tumbller",
        motorUrl: "http://lab-bot.local",
        cameraUrl: "http://lab-bot-cam.local",
      },
      { id: "rover-1", driver: "tumbller", motorUrl: "http://10.0.0.5", cameraUrl: "http://10.0.0.6" },
    ]);
    expect(parseRobots("a-bot, 10.1.2.3", "ROBOTS").map((r) => r.id)).toEqual(["a-bot", "10.1.2.3"]);
  });

  it.each([
    ["bad_host!", /ROBOTS: robot 1 host must be an mDNS name/],
    ['[{"host":"x","motor_url":"file:///etc/passwd"}]', /must be an http/],
    ["[nope", /ROBOTS: not valid JSON/],
  ])("refuses %s", (text, message) => {
    expect(() => parseRobots(text, "ROBOTS")).toThrow(message);
  });

  it("finds robots case-insensitively and refuses duplicates", () => {
    const registry = new ControlledRobots(parseRobots("alpha,beta", "ROBOTS"));
    expect(registry.get(" ALPHA ")?.id).toBe("alpha");
    expect(registry.get("gamma")).toBeUndefined();
    expect(() => new ControlledRobots(parseRobots("alpha,ALPHA", "ROBOTS"))).toThrow("registered twice");
  });
});

describe(".local names", () => {
  it("are resolved once and cached, and asked again after a failure", async () => {
    const asked: string[] = [];
    const resolver = new LocalNameResolver(async (name) => {
      asked.push(name);
      return "10.0.0.9";
    });
    expect(await resolver.url("http://bot.local")).toBe("http://10.0.0.9");
    expect(await resolver.url("http://bot.local")).toBe("http://10.0.0.9");
    expect(await resolver.url("http://10.0.0.1")).toBe("http://10.0.0.1");
    expect(asked).toEqual(["bot.local"]);
    resolver.forget("http://bot.local");
    await resolver.url("http://bot.local");
    expect(asked).toEqual(["bot.local", "bot.local"]);
  });

  it("a name that does not resolve is not cached", async () => {
    let calls = 0;
    const resolver = new LocalNameResolver(async () => {
      calls++;
      if (calls === 1) throw new Error("ENOTFOUND");
      return "10.0.0.2";
    });
    await expect(resolver.url("http://bot.local")).rejects.toThrow("ENOTFOUND");
    expect(await resolver.url("http://bot.local")).toBe("http://10.0.0.2");
  });
});
