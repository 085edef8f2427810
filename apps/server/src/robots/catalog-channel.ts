import type { Logger } from "pino";
import type { PubSub } from "../kv/pubsub.ts";
import type { RobotCatalog } from "./catalog.ts";

// Where instances tell each other that the robot catalog changed.
const CATALOG_CHANNEL = "robots:changed";

/** Tells the other instances that this one (`instance`) changed the catalog. */
export const announceCatalogChange = (pubsub: PubSub, instance: string) => () =>
  pubsub.publish(CATALOG_CHANNEL, instance);

/** Reloads `catalog` whenever another instance changed it; resolves to the unsubscribe. */
export function followCatalogChanges(
  pubsub: PubSub,
  instance: string,
  catalog: RobotCatalog,
  logger: Logger,
): Promise<() => Promise<void>> {
  return pubsub.subscribe(CATALOG_CHANNEL, (from) => {
    if (from !== instance)
      catalog.reload().catch((err) => logger.error({ err }, "reloading the robot catalog failed"));
  });
}
