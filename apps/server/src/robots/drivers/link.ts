import { z } from "zod";
import { linkDriver } from "../link/driver.ts";
import type { TimeKind } from "./kind.ts";

/**
 * A Tumbller (or any robot speaking the link) behind its home router: it dials out to the platform over the
 * robot link (robots/link), usually through robo402-link on its LAN, so the platform never calls an address
 * of the owner's. Sold by time like the HTTP Tumbller.
 */
export const linkKind: TimeKind = {
  sells: "time",
  services: ["drive"],
  description:
    "Tumbller robot with a camera on its owner's network, connected by the robot link: drive it live, paid by time.",
  settings: z.null(),
  dialsIn: true,
  // Nothing to call: the robot comes to the platform.
  addresses: () => ({ motorUrl: "", cameraUrl: "" }),
  checkRegistration: ({ endpoint, cameraUrl }) =>
    endpoint || cameraUrl
      ? "A link robot dials in to the platform with its device token: register it without endpoint or camera_url."
      : null,
  driver: (entry, { links, timeoutMs, cameraTimeoutMs }) => {
    if (!links) throw new Error(`robot '${entry.id}' dials in, and this platform takes no robot links`);
    return linkDriver(entry.id, links, { timeoutMs, cameraTimeoutMs });
  },
};
