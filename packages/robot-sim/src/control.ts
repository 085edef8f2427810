import { type Board, type BoardFaults, FaultInputError, parseFaultRequest } from "./faults.ts";
import { type Handler, PayloadTooLargeError, readBody, requestUrl, sendJson } from "./http.ts";
import type { Motion, Pose } from "./physics.ts";
import type { CommandLogEntry } from "./robot.ts";

interface SimState {
  name: string;
  pose: Pose;
  moving: Motion | null;
  commands: readonly CommandLogEntry[];
  faults: Record<Board, BoardFaults>;
}

interface SimControls {
  state(): SimState;
  setFaults(board: Board, faults: BoardFaults): void;
  reset(): void;
}

const MAX_BODY_BYTES = 16 * 1024;

/** `/_sim/*`: lets tests in other processes watch the robot and break its boards. */
export function controlApi(sim: SimControls): Handler {
  const routes = new Map<string, { method: "GET" | "POST"; run: Handler }>([
    ["/_sim/state", { method: "GET", run: (_req, res) => sendJson(res, 200, sim.state()) }],
    [
      "/_sim/fault",
      {
        method: "POST",
        run: async (req, res) => {
          let request: ReturnType<typeof parseFaultRequest>;
          try {
            request = parseFaultRequest(JSON.parse(await readBody(req, MAX_BODY_BYTES)));
          } catch (error) {
            if (error instanceof PayloadTooLargeError) return sendJson(res, 413, { error: error.message });
            if (error instanceof SyntaxError)
              return sendJson(res, 400, { error: `invalid JSON: ${error.message}` });
            if (error instanceof FaultInputError) return sendJson(res, 400, { error: error.message });
            throw error;
          }
          sim.setFaults(request.board, request.faults);
          sendJson(res, 200, sim.state());
        },
      },
    ],
    [
      "/_sim/reset",
      {
        method: "POST",
        run: (_req, res) => {
          sim.reset();
          sendJson(res, 200, sim.state());
        },
      },
    ],
  ]);
  return (req, res) => {
    const route = routes.get(requestUrl(req).pathname);
    if (!route) return sendJson(res, 404, { error: `no control route ${req.method} ${req.url}` });
    if (req.method !== route.method) {
      res.setHeader("Allow", route.method);
      return sendJson(res, 405, { error: `use ${route.method}` });
    }
    return route.run(req, res);
  };
}
