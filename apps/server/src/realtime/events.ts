import type { Logger } from "pino";
import { z } from "zod";
import { CALL_QUOTE_STATUSES, type CallQuoteStatus } from "../db/schema.ts";
import type { PubSub } from "../kv/index.ts";

const Status = z.enum(CALL_QUOTE_STATUSES);

/**
 * A payment session's status changes, told to every server process (through Redis when there are
 * several): the one that sees a payment publishes, the one holding the client's socket listens.
 */
export class SessionEvents {
  constructor(
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
  ) {}

  publish(sessionId: string, status: CallQuoteStatus): Promise<void> {
    return this.pubsub.publish(channel(sessionId), status);
  }

  /** Listens from the moment the promise resolves; the function it gives stops listening. */
  subscribe(sessionId: string, listener: (status: CallQuoteStatus) => void): Promise<() => Promise<void>> {
    return this.pubsub.subscribe(channel(sessionId), (message) => {
      const status = Status.safeParse(message);
      // Anything else on the channel was not sent by SessionEvents (another version of the server?).
      if (status.success) listener(status.data);
      else this.logger.warn({ sessionId, message }, "ignored an unknown session event");
    });
  }
}

const channel = (sessionId: string) => `session:${sessionId}`;
