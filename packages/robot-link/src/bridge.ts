import {
  encodeFrame,
  LINK_HEARTBEAT_MS,
  LINK_PATH,
  LINK_SILENCE_MS,
  LinkClose,
  type LinkInfo,
  type MotorCommand,
  PlatformMessage,
  type RobotMessage,
} from "@robo402/protocol";
import WebSocket from "ws";
import { BoardError, MAX_FRAME_BYTES } from "./firmware.ts";

/** What the bridge drives: the Tumbller's boards on the LAN (firmware.ts), or a simulator's. */
export interface Boards {
  command(command: MotorCommand): Promise<void>;
  info(): Promise<LinkInfo>;
  frame(): Promise<Uint8Array>;
}

export type BridgeEvent =
  | { type: "connected"; robot: string }
  | { type: "disconnected"; code: number; reason: string; retryInMs: number }
  | { type: "stopped"; why: string; attempts: number }
  | { type: "stop-failed"; why: string; error: string }
  | { type: "gave-up"; code: number; reason: string };

export interface BridgeOptions {
  /** The platform's base URL, `https://robo402.example` (`http://` for a local one). */
  readonly platform: string;
  readonly token: string;
  readonly boards: Boards;
  readonly onEvent?: (event: BridgeEvent) => void;
  /** First reconnect delay; doubles per failed attempt up to `maxBackoffMs`, each with jitter. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface Bridge {
  /** Whether the link is up now (the platform said hello). */
  readonly connected: boolean;
  /** Resolves when the bridge stops for good: `close()`, or the platform refused the token or replaced it. */
  readonly done: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

// Until the platform's hello says otherwise: the platform's default dead-man.
const DEFAULT_DEADMAN_MS = 1500;
const STOP_ATTEMPTS = 10;

/**
 * Holds the robot's link to the platform: dials out, answers the platform's requests with the boards, and
 * dials again with exponential backoff and jitter whenever the link drops. Safety does not depend on the
 * platform: when the link closes or falls silent, or no motion command came for the dead-man time while
 * the robot moves, the bridge stops the robot itself (and retries the stop until a board confirms it).
 */
export function startBridge(options: BridgeOptions): Bridge {
  const { boards, onEvent = () => {} } = options;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const url = new URL(LINK_PATH, options.platform.replace(/^http/, "ws"));

  let socket: WebSocket | undefined;
  let connected = false;
  let closing = false;
  let failures = 0;
  let deadmanMs = DEFAULT_DEADMAN_MS;
  let reconnect: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let silence: NodeJS.Timeout | undefined;
  let motion: NodeJS.Timeout | undefined;
  let finish!: (end: { code: number; reason: string }) => void;
  const done = new Promise<{ code: number; reason: string }>((resolve) => {
    finish = resolve;
  });

  /** Stops the robot on the LAN, retrying until the motor board confirms or the attempts run out. */
  async function stopRobot(why: string): Promise<void> {
    clearTimeout(motion);
    motion = undefined;
    let lastError = "";
    for (let attempt = 1; attempt <= STOP_ATTEMPTS; attempt++) {
      try {
        await boards.command("stop");
        onEvent({ type: "stopped", why, attempts: attempt });
        return;
      } catch (error) {
        lastError = (error as Error).message;
        await sleep(Math.min(100 * 2 ** (attempt - 1), 1000));
      }
    }
    onEvent({ type: "stop-failed", why, error: lastError });
  }

  function send(ws: WebSocket, message: RobotMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function heard(ws: WebSocket): void {
    clearTimeout(silence);
    // Heard nothing for this long: the link is dead even if TCP has not noticed.
    silence = setTimeout(() => ws.terminate(), LINK_SILENCE_MS);
  }

  async function handle(ws: WebSocket, message: PlatformMessage): Promise<void> {
    switch (message.type) {
      case "hello":
        deadmanMs = message.deadmanMs;
        connected = true;
        failures = 0;
        onEvent({ type: "connected", robot: message.robot });
        return;
      case "ping":
        return send(ws, { type: "pong", at: message.at });
      case "pong":
        return;
      case "command": {
        const { id, command } = message;
        // The bridge's own dead-man: a motion lasts until the next command or the dead-man time.
        clearTimeout(motion);
        motion =
          command === "stop"
            ? undefined
            : setTimeout(() => void stopRobot("no motion command within the dead-man time"), deadmanMs);
        return boards.command(command).then(
          () => send(ws, { type: "ack", id, ok: true }),
          (error: Error) => send(ws, { type: "ack", id, ok: false, error: error.message }),
        );
      }
      case "velocity":
        return send(ws, {
          type: "ack",
          id: message.id,
          ok: false,
          error: "this robot takes motor commands (forward, back, left, right, stop), not velocities",
        });
      case "info":
        return boards.info().then(
          (info) => send(ws, { type: "ack", id: message.id, ok: true, info }),
          (error: Error) => send(ws, { type: "ack", id: message.id, ok: false, error: error.message }),
        );
      case "frame":
        return boards.frame().then(
          (jpeg) => {
            if (jpeg.length > MAX_FRAME_BYTES)
              return send(ws, { type: "ack", id: message.id, ok: false, error: "camera frame too large" });
            if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(message.id, jpeg));
          },
          (error: Error) =>
            send(ws, {
              type: "ack",
              id: message.id,
              ok: false,
              error: error.message,
              busy: error instanceof BoardError && error.busy ? true : undefined,
            }),
        );
    }
  }

  function dial(): void {
    if (closing) return;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${options.token}` },
      maxPayload: 64 * 1024,
      handshakeTimeout: LINK_SILENCE_MS,
    });
    socket = ws;
    let refusedStatus: number | undefined;
    ws.on("unexpected-response", (_request, response) => {
      // Refused before the upgrade: 401 (the token), 429 (too many attempts).
      refusedStatus = response.statusCode;
      response.resume();
      ws.terminate();
    });
    ws.on("open", () => {
      heard(ws);
      heartbeat = setInterval(() => send(ws, { type: "ping", at: Date.now() }), LINK_HEARTBEAT_MS);
      void Promise.allSettled([boards.info(), boards.frame()]).then(([motor, camera]) =>
        send(ws, {
          type: "health",
          motor: motor.status === "fulfilled",
          camera: camera.status === "fulfilled",
        }),
      );
    });
    ws.on("message", (data, isBinary) => {
      heard(ws);
      if (isBinary) return;
      let message: PlatformMessage;
      try {
        message = PlatformMessage.parse(JSON.parse(String(data)));
      } catch {
        return;
      }
      void handle(ws, message);
    });
    ws.on("error", () => {
      // Followed by "close", which decides what happens next.
    });
    ws.on("close", (code, reasonBuffer) => {
      clearInterval(heartbeat);
      clearTimeout(silence);
      const wasConnected = connected;
      connected = false;
      const reason = reasonBuffer.toString() || (refusedStatus ? `refused with HTTP ${refusedStatus}` : "");
      // Whatever the platform meant to do next, it cannot reach the robot now: stop it here.
      if (wasConnected) void stopRobot(`link closed (${code}${reason ? `: ${reason}` : ""})`);
      const fatal = code === LinkClose.unauthorized || code === LinkClose.replaced || refusedStatus === 401;
      if (fatal || closing) {
        closing = true;
        if (!wasConnected || fatal) onEvent({ type: "gave-up", code: refusedStatus ?? code, reason });
        finish({ code: refusedStatus ?? code, reason });
        return;
      }
      failures++;
      const ceiling =
        code === LinkClose.rateLimited || refusedStatus === 429
          ? maxBackoffMs
          : Math.min(backoffMs * 2 ** (failures - 1), maxBackoffMs);
      // Jitter: robots that lost the platform together do not all dial back at the same instant.
      const retryInMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      onEvent({ type: "disconnected", code: refusedStatus ?? code, reason, retryInMs });
      reconnect = setTimeout(dial, retryInMs);
    });
  }

  dial();

  return {
    get connected() {
      return connected;
    },
    done,
    async close() {
      closing = true;
      clearTimeout(reconnect);
      clearTimeout(motion);
      if (socket && socket.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((resolve) => socket?.once("close", resolve));
        socket.close(1000, "bridge stopping");
        setTimeout(() => socket?.terminate(), 1000).unref();
        await closed;
      } else finish({ code: 1000, reason: "bridge stopping" });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
