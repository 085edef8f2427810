import type { CameraResult, CameraWindow } from "./camera.ts";
import type { ScalePoint } from "./scale.ts";
import type { SessionCheckResult } from "./session-check.ts";

// The camera firmware refuses a request within this long of the last one.
const FIRMWARE_MIN_INTERVAL_MS = 100;

const ratio = (subject: number, baseline: number) => (subject / baseline).toFixed(2);
const fixed = (value: number, digits: number) => value.toFixed(digits);
const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;

export function sessionCheckTable(result: SessionCheckResult): string[] {
  const ops = (value: number) => value.toFixed(0);
  return [
    line([
      "session check (motor route: credentials → session → robot)",
      "cached ops/s",
      "database read per call ops/s",
      "ops/s ratio",
    ]),
    line(["---", "---", "---", "---"]),
    line([
      "paid mode, `Authorization: Bearer`",
      ops(result.paid.cached),
      ops(result.paid.uncached),
      ratio(result.paid.cached, result.paid.uncached),
    ]),
    line([
      "free mode, `X-Wallet-Address`",
      ops(result.free.cached),
      ops(result.free.uncached),
      ratio(result.free.cached, result.free.uncached),
    ]),
  ];
}

export function cameraTable(result: CameraResult, fpsTarget: number): string[] {
  const { direct } = result;
  const slowest = Math.min(...result.platform.map((w) => w.fpsPerViewer));
  const busy = result.platform.reduce((sum, w) => sum + w.cameraBusy, 0);
  const requests = result.platform.reduce((sum, w) => sum + w.cameraRequests, 0);
  const cells = (name: string, w: CameraWindow) => [
    name,
    w.viewers,
    fixed(w.fpsPerViewer, 2),
    fixed(w.fpsTotal, 1),
    `${w.cameraRequests} (${w.cameraBusy})`,
    ratio(w.fpsPerViewer, direct.fpsPerViewer),
    ratio(w.fpsTotal, direct.fpsTotal),
    ratio(w.cameraRequests, direct.cameraRequests),
  ];
  const ceiling = Math.floor((result.seconds * 1000) / FIRMWARE_MIN_INTERVAL_MS);
  return [
    line([
      "camera",
      "viewers",
      "fps per viewer",
      "fps, all viewers",
      "camera board requests (503s)",
      "fps per viewer ratio",
      "fps, all viewers ratio",
      "camera requests ratio",
    ]),
    line(["---", "---", "---", "---", "---", "---", "---", "---"]),
    line(cells("baseline: one poller straight to the camera board", direct)),
    ...result.platform.map((w) => line(cells("/api/v1/robot/camera/stream (multipart MJPEG)", w))),
    "",
    `Windows of ${result.seconds} s, the platform's CAMERA_INTERVAL_MS and the direct poller both ${result.intervalMs} ms; ` +
      `the firmware's limit (one request per ${FIRMWARE_MIN_INTERVAL_MS} ms) allows at most ${ceiling} camera requests a window.`,
    `Over HTTP each viewer got at least ${fixed(slowest, 2)} fps (target ≥ ${fpsTarget}: ${slowest >= fpsTarget ? "within" : "short"}); ` +
      `the camera refused ${busy} of the platform's ${requests} requests as too soon.`,
  ];
}

export function scaleTable(points: readonly ScalePoint[]): string[] {
  const [base] = points;
  if (!base) return [];
  return [
    line([
      "motor command, free mode",
      "registered robots",
      "active sessions",
      "p50 / p99 ms",
      "p50 ratio",
      "p99 ratio",
    ]),
    line(["---", "---", "---", "---", "---", "---"]),
    ...points.map((point, i) =>
      line([
        i === 0 ? "baseline" : "",
        point.robots,
        point.sessions,
        `${fixed(point.p50, 2)} / ${fixed(point.p99, 2)}`,
        ratio(point.p50, base.p50),
        ratio(point.p99, base.p99),
      ]),
    ),
  ];
}
