import type { Velocity } from "@robo402/protocol";
import { useCallback, useEffect, useRef } from "react";

/** How often speeds are sent while held: a velocity robot's platform watchdog is at most 1 s. */
export const VELOCITY_PERIOD_MS = 100;

const KEYS: Record<string, Partial<Velocity>> = {
  ArrowUp: { linear: 1 },
  KeyW: { linear: 1 },
  ArrowDown: { linear: -1 },
  KeyS: { linear: -1 },
  ArrowLeft: { angular: 1 },
  KeyA: { angular: 1 },
  ArrowRight: { angular: -1 },
  KeyD: { angular: -1 },
};

const clamp = (value: number) => Math.max(-1, Math.min(1, value));

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

/**
 * Continuous driving of a velocity robot: held keys (arrows, WASD, combined: forward and left is an arc)
 * or the drag pad's position set {linear, angular}, sent every VELOCITY_PERIOD_MS while not zero. Letting
 * go, the window losing focus, hiding the tab or leaving the page sends `stop`.
 */
export function useVelocityDrive(send: (velocity: Velocity) => void, stop: () => void, enabled: boolean) {
  const keys = useRef(new Set<string>());
  const pad = useRef<Velocity | null>(null);
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);
  const calls = useRef({ send, stop });
  calls.current = { send, stop };

  const current = useCallback((): Velocity => {
    if (pad.current) return pad.current;
    let linear = 0;
    let angular = 0;
    for (const code of keys.current) {
      linear += KEYS[code]?.linear ?? 0;
      angular += KEYS[code]?.angular ?? 0;
    }
    return { linear: clamp(linear), angular: clamp(angular) };
  }, []);

  // Starts the stream at once, leaves a running one to pick up the change, or stops it at zero.
  const update = useCallback(() => {
    const velocity = current();
    const moving = velocity.linear !== 0 || velocity.angular !== 0;
    if (moving && !timer.current) {
      calls.current.send(velocity);
      timer.current = setInterval(() => calls.current.send(current()), VELOCITY_PERIOD_MS);
    } else if (!moving && timer.current) {
      clearInterval(timer.current);
      timer.current = null;
      calls.current.stop();
    }
  }, [current]);

  /** The drag pad's speeds while it is held; null when let go. */
  const setPad = useCallback(
    (velocity: Velocity | null) => {
      pad.current = velocity;
      update();
    },
    [update],
  );

  const letGo = useCallback(() => {
    keys.current.clear();
    pad.current = null;
    update();
  }, [update]);

  useEffect(() => {
    if (!enabled) return;
    const down = (event: KeyboardEvent) => {
      if (!KEYS[event.code] || typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      keys.current.add(event.code);
      update();
    };
    const up = (event: KeyboardEvent) => {
      if (keys.current.delete(event.code)) update();
    };
    const hidden = () => document.visibilityState === "hidden" && letGo();
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    window.addEventListener("blur", letGo);
    window.addEventListener("pagehide", letGo);
    document.addEventListener("visibilitychange", hidden);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
      window.removeEventListener("blur", letGo);
      window.removeEventListener("pagehide", letGo);
      document.removeEventListener("visibilitychange", hidden);
      // Leaving the page (or the session ending) while driving.
      letGo();
    };
  }, [enabled, update, letGo]);

  return { setPad, letGo };
}
