import type { Logger } from "pino";

/** What the platform started, stopped last first; a step that fails is logged and the others still run. */
export class Shutdown {
  readonly #steps: Array<() => Promise<unknown>> = [];

  constructor(private readonly logger: Logger) {}

  add(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.reverse())
      await step().catch((err) => this.logger.error({ err }, "shutdown step failed"));
  }
}

/** What every wiring step is handed: where to log, and where to register what it started. */
export interface Wiring {
  readonly logger: Logger;
  readonly shutdown: Shutdown;
}
