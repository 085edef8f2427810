import type { RobotEntry } from "../robots/controlled.ts";
import type { RobotGateway } from "../robots/gateway.ts";
import type { LinkHub } from "../robots/link/hub.ts";
import type { AccessService } from "./service.ts";

/**
 * What the control path does with the catalog's drive robots after a change. A robot leaving the registry
 * (deleted or moved) or suspended loses its session and is stopped (its driver let go after), and its link
 * closes: dialling again, it hears what it is now.
 */
export function releaseOnCatalogChange(
  access: AccessService,
  robots: RobotGateway,
  links: LinkHub,
): (entries: RobotEntry[]) => Promise<void> {
  return async (entries) => {
    const kept = new Set(entries.map((entry) => entry.id));
    for (const gone of robots.list().filter((entry) => !kept.has(entry.id))) {
      await access.endHolder(gone, "deleted");
      links.closeHere(gone.id, "the robot was deleted or renamed");
    }
    for (const suspended of entries.filter((entry) => entry.listing?.suspended)) {
      await access.endHolder(suspended, "suspended");
      links.closeHere(suspended.id, "the robot was suspended by an administrator");
    }
    robots.reload(entries);
  };
}
