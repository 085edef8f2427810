import type { MotorCommand } from "@robo402/protocol";
import { useCallback, useEffect, useRef } from "react";

/** How often a held command is repeated: well inside the robot's 1 s auto-stop and the server's dead-man. */
export const REPEAT_MS = 300;

const KEYS: Record<string, Exclude<MotorCommand, "stop">> = {
  ArrowUp: "forward",
  KeyW: "forward",
  ArrowDown: "back",
  KeyS: "back",
  ArrowLeft: "left",
  KeyA: "left",
  ArrowRight: "right",
  KeyD: "right",
};

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

/**
 * Hold-to-drive: a held key (arrows, WASD) or button repeats its command every REPEAT_MS; letting go,
 * leaving the page, hiding the tab or the window losing focus sends `stop`. Returns press/release for
 * on-screen buttons, and `stop` for the stop button.
 */
export function useHoldToDrive(send: (command: MotorCommand) => void, enabled: boolean) {
  const held = useRef<{ command: MotorCommand; timer: ReturnType<typeof setInterval> } | null>(null);
  const sendRef = useRef(send);
  sendRef.current = send;

  const stop = useCallback(() => {
    if (held.current) clearInterval(held.current.timer);
    held.current = null;
    sendRef.current("stop");
  }, []);

  const press = useCallback((command: Exclude<MotorCommand, "stop">) => {
    if (held.current?.command === command) return;
    if (held.current) clearInterval(held.current.timer);
    sendRef.current(command);
    held.current = { command, timer: setInterval(() => sendRef.current(command), REPEAT_MS) };
  }, []);

  const release = useCallback(() => {
    if (held.current) stop();
  }, [stop]);

  useEffect(() => {
    if (!enabled) return;
    const down = (event: KeyboardEvent) => {
      const command = KEYS[event.code];
      if (!command || typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      if (!event.repeat) press(command);
    };
    const up = (event: KeyboardEvent) => {
      const command = KEYS[event.code];
      if (command && held.current?.command === command) release();
    };
    const hidden = () => document.visibilityState === "hidden" && release();
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    window.addEventListener("blur", release);
    window.addEventListener("pagehide", release);
    document.addEventListener("visibilitychange", hidden);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
      window.removeEventListener("blur", release);
      window.removeEventListener("pagehide", release);
      document.removeEventListener("visibilitychange", hidden);
      // Leaving the page (or the session ending) while driving.
      release();
    };
  }, [enabled, press, release]);

  return { press, release, stop };
}
