import { setTimeout as delay } from "node:timers/promises";
import { type Handler, send } from "./http.ts";

export type Board = "motor" | "camera";

export interface BoardFaults {
  /** Drop every firmware request's connection without an answer, as if the board were unreachable. */
  offline?: boolean;
  /** Wait this long before answering, like a board on a weak Wi-Fi link. */
  slowMs?: number;
  /** Answer every firmware request with this 5xx status instead. */
  errorStatus?: number;
}

export class FaultInputError extends Error {}

const BOARDS: readonly Board[] = ["motor", "camera"];
const FAULT_KEYS = new Set(["offline", "slowMs", "errorStatus"]);
// Longer than any client's timeout; a bigger number is a typo, not a test.
const MAX_SLOW_MS = 60_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Checks faults from an untyped caller; returns a copy holding only the keys that were set. */
export function checkFaults(input: unknown): BoardFaults {
  if (!isRecord(input)) throw new FaultInputError("faults must be an object");
  const unknown = Object.keys(input).filter((key) => !FAULT_KEYS.has(key));
  if (unknown.length > 0) {
    throw new FaultInputError(`unknown fault ${unknown.join(", ")}; known: offline, slowMs, errorStatus`);
  }
  const { offline, slowMs, errorStatus } = input;
  const faults: BoardFaults = {};
  if (offline !== undefined) {
    if (typeof offline !== "boolean") throw new FaultInputError("offline must be true or false");
    faults.offline = offline;
  }
  if (slowMs !== undefined) {
    if (typeof slowMs !== "number" || !Number.isFinite(slowMs) || slowMs < 0 || slowMs > MAX_SLOW_MS) {
      throw new FaultInputError(`slowMs must be a number of milliseconds from 0 to ${MAX_SLOW_MS}`);
    }
    faults.slowMs = slowMs;
  }
  if (errorStatus !== undefined) {
    if (
      typeof errorStatus !== "number" ||
      !Number.isInteger(errorStatus) ||
      errorStatus < 500 ||
      errorStatus > 599
    ) {
      throw new FaultInputError("errorStatus must be an HTTP status from 500 to 599");
    }
    faults.errorStatus = errorStatus;
  }
  return faults;
}

export function checkBoard(input: unknown): Board {
  const board = BOARDS.find((known) => known === input);
  if (!board) throw new FaultInputError('board must be "motor" or "camera"');
  return board;
}

/** Reads the body of `POST /_sim/fault`: a board and that board's new faults. */
export function parseFaultRequest(input: unknown): { board: Board; faults: BoardFaults } {
  if (!isRecord(input))
    throw new FaultInputError('expected a JSON object like {"board":"motor","offline":true}');
  const { board, ...faults } = input;
  return { board: checkBoard(board), faults: checkFaults(faults) };
}

/** Puts a board's current faults in front of its firmware. */
export function withFaults(faults: () => BoardFaults, closing: AbortSignal, firmware: Handler): Handler {
  return async (req, res) => {
    const { offline, slowMs, errorStatus } = faults();
    if (offline) {
      req.socket.destroy();
      return;
    }
    if (slowMs) await delay(slowMs, undefined, { signal: closing });
    if (errorStatus) send(res, errorStatus, "simulated fault");
    else await firmware(req, res);
  };
}
