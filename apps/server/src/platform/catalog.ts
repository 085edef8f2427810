import { releaseOnCatalogChange } from "../access/catalog-change.ts";
import { RobotCatalog } from "../robots/catalog.ts";
import { announceCatalogChange, followCatalogChanges } from "../robots/catalog-channel.ts";
import { CatalogStore } from "../robots/catalog-store.ts";
import type { RobotEntry } from "../robots/controlled.ts";
import type { Payments } from "./payments.ts";
import type { Control } from "./robots.ts";
import type { Wiring } from "./shutdown.ts";
import type { Simulation } from "./simulation.ts";
import type { Stores } from "./stores.ts";

/**
 * One registry: the catalog's drive robots are what the control path sells, on every instance. The robots
 * the configuration (and the simulation) bring are listed at the platform's terms.
 */
export async function wireCatalog(
  { database, pubsub, instance }: Stores,
  { access, robots, links, checkUrl, deviceTokens }: Control,
  { terms }: Payments,
  configured: readonly RobotEntry[],
  simulation: Simulation | undefined,
  { logger, shutdown }: Wiring,
) {
  const catalog = new RobotCatalog(
    new CatalogStore(database.db),
    checkUrl,
    logger,
    releaseOnCatalogChange(access, robots, links),
    announceCatalogChange(pubsub, instance),
  );
  shutdown.add(await followCatalogChanges(pubsub, instance, catalog, logger));
  const services = await simulation?.startServices(terms.payees);
  if (services) shutdown.add(services.close);
  const listed = (entries: readonly RobotEntry[]) => entries.map((entry) => ({ entry, ...terms }));
  await catalog.syncConfigured(
    listed([...(simulation?.robots ?? []), ...configured]),
    services?.robots ?? [],
  );

  /** Lists robots that dial in after start, and gives each a new device token (by host). */
  const enrol = async (entries: RobotEntry[]) => {
    await catalog.addConfigured(listed(entries));
    const tokens = entries.map(async ({ id }) => [id, await deviceTokens.rotateConfigured(id)] as const);
    return new Map(await Promise.all(tokens));
  };
  return { catalog, enrol };
}
