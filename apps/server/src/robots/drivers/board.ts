import { type BoardAnswer, callBoard, type KeptConnections } from "@robo402/robot-link";
import { RobotUnavailableError } from "../driver.ts";
import { type AddressGuard, EndpointRefusedError } from "../endpoint-guard.ts";
import type { LocalNameResolver } from "../resolver.ts";

/** How a driver reaches its robot's boards. */
export interface BoardAccess {
  readonly resolver: LocalNameResolver;
  /** An owner's robot is reached only through the address guard; the operator's own robots directly. */
  readonly guard: AddressGuard | undefined;
}

export interface BoardAsk {
  readonly board: "motor" | "camera";
  /** The board's registered address; the firmware's `path` replaces whatever follows its host. */
  readonly base: string;
  readonly path: string;
  readonly method?: "GET" | "POST";
  readonly json?: unknown;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** For a robot whose API keeps its connections: made with the access's guard (keptConnections). */
  readonly kept?: KeptConnections;
}

/**
 * One request to one of a robot's boards: a `.local` name resolved on the LAN, an owner's robot called
 * through the address guard, and every failure to get an answer a RobotUnavailableError naming the board.
 * The answer's status is the caller's to judge.
 */
export async function askBoard(access: BoardAccess, ask: BoardAsk): Promise<BoardAnswer> {
  const { resolver, guard } = access;
  let url: URL;
  try {
    url = new URL(ask.path, await resolver.url(ask.base));
  } catch {
    throw new RobotUnavailableError(ask.board, `name ${new URL(ask.base).hostname} did not resolve`);
  }
  const refused = guard?.refuseLiteral(url.hostname);
  if (refused) throw new RobotUnavailableError(ask.board, `refused by the platform: ${refused.message}`);
  try {
    return await callBoard(url, {
      method: ask.method,
      json: ask.json,
      timeoutMs: ask.timeoutMs,
      maxBytes: ask.maxBytes,
      lookup: guard?.lookup,
      kept: ask.kept,
    });
  } catch (error) {
    if (error instanceof EndpointRefusedError)
      throw new RobotUnavailableError(ask.board, `refused by the platform: ${error.message}`);
    // The name may have moved on the LAN: it is asked again next time.
    resolver.forget(ask.base);
    throw new RobotUnavailableError(ask.board, `unreachable (${(error as Error).message})`);
  }
}
