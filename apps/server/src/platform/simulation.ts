import type { Payees } from "../payments/networks.ts";
import type { ConfiguredServiceRobot } from "../robots/catalog.ts";
import type { RobotEntry } from "../robots/controlled.ts";

/**
 * Robots a development setup runs in this process beside the configured ones (dev/ starts them; production
 * has none). The platform registers them like configured robots, and stops them after everything else.
 */
export interface Simulation {
  /** Drive robots already running. */
  readonly robots: readonly RobotEntry[];
  /** Starts the service robots, paid to `payees`; undefined when there are none. */
  startServices(
    payees: Payees,
  ): Promise<{ robots: ConfiguredServiceRobot[]; close: () => Promise<void> } | undefined>;
  /**
   * Starts the robots that dial in to the platform listening at `url`; `enrol` registers them and gives
   * each its device token (by host). Resolves to their stop, or undefined when there are none.
   */
  dialIn(
    url: string,
    enrol: (entries: RobotEntry[]) => Promise<Map<string, string>>,
  ): Promise<(() => Promise<void>) | undefined>;
  close(): Promise<void>;
}
