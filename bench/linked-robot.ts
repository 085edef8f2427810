import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ORPHAN_GUARD } from "./processes.ts";

/** The real `robo402-link` CLI, in its own process, as it runs on a Raspberry Pi beside the robot. */
const ROBO402_LINK = fileURLToPath(new URL("../packages/robot-link/bin/robo402-link.js", import.meta.url));

/** POSTs `body` as JSON to the platform at `platformUrl`. */
export function postJson(
  platformUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${platformUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Registers `host` on the platform at `platformUrl` as a link robot, under a new owner account (one per
 * `owner` email), and returns its device token.
 */
export async function registerLinkRobot(platformUrl: string, host: string, owner: string): Promise<string> {
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await postJson(platformUrl, path, body, headers);
    if (!response.ok) throw new Error(`${path} answered ${response.status} ${await response.text()}`);
    return response.json();
  };
  const { access_token } = (await post("/api/auth/register", {
    email: owner,
    password: "long-enough-password",
    role: "robot_owner",
  })) as { access_token: string };
  const { device_token } = (await post(
    "/api/robots",
    {
      name: host,
      price: "0.10",
      wallet_address: "0x000000000000000000000000000000000000bEEF",
      services: ["drive"],
      driver: "link",
      host,
    },
    { authorization: `Bearer ${access_token}` },
  )) as { device_token: string };
  return device_token;
}

/** Starts robo402-link for a robot-sim's boards, dialling `platformUrl` with `token`. */
export function spawnBridge(
  platformUrl: string,
  token: string,
  boards: { motorUrl: string; cameraUrl: string },
): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...ORPHAN_GUARD,
      ROBO402_LINK,
      ...["--platform", platformUrl, "--motor", boards.motorUrl, "--camera", boards.cameraUrl],
    ],
    { env: { ...process.env, ROBO402_LINK_TOKEN: token }, stdio: "ignore" },
  );
}
