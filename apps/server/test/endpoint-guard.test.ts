import { type ServiceRobot, startServiceRobot } from "@robo402/robot-sim";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkRobotUrl,
  type EndpointPolicy,
  EndpointRefusedError,
  guardedDispatcher,
} from "../src/robots/endpoint-guard.ts";

const NONE: EndpointPolicy = { allowedNetworks: [] };

let robot: ServiceRobot;
beforeAll(async () => {
  robot = await startServiceRobot({ kind: "data-analysis" });
});
afterAll(() => robot.close());

async function refusedReason(url: string, policy = NONE): Promise<string> {
  const check = await checkRobotUrl(url, policy);
  if (check.ok) throw new Error(`${url} was let through`);
  return check.reason;
}

describe("checkRobotUrl", () => {
  it.each([
    ["http://127.0.0.1:8080/run", /^127\.0\.0\.1 is a loopback address; robot endpoints must be public/],
    ["http://2130706433/", /^127\.0\.0\.1 is a loopback address/],
    ["http://0x7f.1/", /^127\.0\.0\.1 is a loopback address/],
    ["http://10.1.2.3/", /^10\.1\.2\.3 is a private address/],
    ["http://172.16.5.4/", /^172\.16\.5\.4 is a private address/],
    ["http://172.31.255.1/", /is a private address/],
    ["http://192.168.1.1/", /^192\.168\.1\.1 is a private address/],
    ["http://100.64.0.1/", /^100\.64\.0\.1 is a private address \(carrier-grade NAT/],
    ["http://169.254.169.254/latest/meta-data/", /is a link-local address, the cloud metadata service/],
    ["http://169.254.10.1/", /^169\.254\.10\.1 is a link-local address;/],
    ["http://0.0.0.0/", /^0\.0\.0\.0 is an unspecified address/],
    ["http://224.0.0.1/", /is a multicast address/],
    ["http://255.255.255.255/", /is the broadcast address/],
    ["http://240.0.0.1/", /is a reserved address/],
    ["http://192.0.2.10/", /is a reserved address/],
    ["http://[::1]:8080/", /^::1 is a loopback address/],
    ["http://[::]/", /^:: is an unspecified address/],
    ["http://[fd12:3456::1]/", /is a private address \(IPv6 unique local\)/],
    ["http://[fe80::1]/", /is a link-local address/],
    ["http://[ff02::1]/", /is a multicast address/],
    ["http://[2001:db8::1]/", /is a reserved address/],
    ["http://[::7f00:1]/", /is a reserved address/],
    ["http://[::ffff:127.0.0.1]/", /^::ffff:7f00:1 is a loopback address \(IPv4-mapped\)/],
    ["http://[::ffff:10.0.0.1]/", /is a private address \(IPv4-mapped\)/],
    ["http://[::ffff:169.254.169.254]/", /the cloud metadata service \(IPv4-mapped\)/],
  ])("refuses %s", async (url, reason) => {
    expect(await refusedReason(url)).toMatch(reason);
  });

  it("refuses a name that resolves inside, naming the address", async () => {
    expect(await refusedReason("http://localhost:8000/")).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
    );
  });

  it("refuses what is not an http(s) URL, or carries credentials", async () => {
    expect(await refusedReason("ftp://8.8.8.8/robot")).toBe("the endpoint must be http or https, not ftp");
    expect(await refusedReason("file:///etc/passwd")).toBe("the endpoint must be http or https, not file");
    expect(await refusedReason("robot.example.com/run")).toBe('"robot.example.com/run" is not a URL');
    expect(await refusedReason("http://owner:secret@8.8.8.8/")).toBe(
      "the endpoint must not carry a user name or password",
    );
    expect(await refusedReason("http://robot.invalid/")).toMatch(/^robot\.invalid does not resolve \(E/);
  });

  it("lets public addresses through, normalised", async () => {
    // Literal addresses: this machine has no outside DNS to resolve a public name with.
    expect(await checkRobotUrl("http://8.8.8.8:8080/run?x=1", NONE)).toEqual({
      ok: true,
      url: "http://8.8.8.8:8080/run?x=1",
    });
    expect(await checkRobotUrl("HTTPS://[2606:4700:4700::1111]/", NONE)).toEqual({
      ok: true,
      url: "https://[2606:4700:4700::1111]/",
    });
  });

  it("lets an allowed network through, and only that one", async () => {
    const loopback = { allowedNetworks: ["127.0.0.0/8"] };
    expect(await checkRobotUrl(robot.url, loopback)).toEqual({ ok: true, url: robot.url });
    expect((await checkRobotUrl("http://[::ffff:127.0.0.1]/", loopback)).ok).toBe(true);
    expect(await refusedReason("http://[::1]/", loopback)).toMatch(/loopback/);
    expect(await refusedReason("http://10.0.0.1/", loopback)).toMatch(/private/);
  });

  it("throws on a policy with a malformed CIDR", async () => {
    await expect(checkRobotUrl("http://8.8.8.8/", { allowedNetworks: ["10.0.0.0"] })).rejects.toThrow(
      /"10\.0\.0\.0" is not a CIDR/,
    );
  });
});

describe("guardedDispatcher", () => {
  const post = (url: string, dispatcher: ReturnType<typeof guardedDispatcher>) =>
    request(url, {
      method: "POST",
      dispatcher,
      body: JSON.stringify({ service: "data-analysis", input: { values: [1, 2] } }),
    });

  it("refuses to connect to a loopback address that is not allowed", async () => {
    const dispatcher = guardedDispatcher(NONE);
    const refusal = post(robot.url, dispatcher);
    await expect(refusal).rejects.toBeInstanceOf(EndpointRefusedError);
    await expect(post(robot.url, dispatcher)).rejects.toThrow(/^127\.0\.0\.1 is a loopback address/);
    await dispatcher.close();
  });

  it("checks the address a name resolves to when it connects", async () => {
    const dispatcher = guardedDispatcher(NONE);
    const byName = robot.url.replace("127.0.0.1", "localhost");
    await expect(post(byName, dispatcher)).rejects.toThrow(/^localhost resolves to .*, which is a loopback/);
    await dispatcher.close();
  });

  it("connects inside an allowed network", async () => {
    const dispatcher = guardedDispatcher({ allowedNetworks: ["127.0.0.0/8", "::1/128"] });
    for (const url of [robot.url, robot.url.replace("127.0.0.1", "localhost")]) {
      const response = await post(url, dispatcher);
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toMatchObject({ count: 2, mean: 1.5 });
    }
    await dispatcher.close();
  });
});
