import type { Velocity } from "@robo402/protocol";
import { type PointerEvent, useState } from "react";

const clamp = (value: number) => Math.max(-1, Math.min(1, value));
const round = (value: number) => Math.round(value * 100) / 100 || 0;

/** Where the pointer is on the pad as speeds: up is forward, left turns left; the centre is still. */
function speedsAt(event: PointerEvent<HTMLDivElement>): Velocity {
  const box = event.currentTarget.getBoundingClientRect();
  const x = (event.clientX - (box.left + box.width / 2)) / (box.width / 2);
  const y = (event.clientY - (box.top + box.height / 2)) / (box.height / 2);
  return { linear: round(clamp(-y)), angular: round(clamp(-x)) };
}

/** A drag pad: hold and drag to set linear and angular speed; letting go stops the robot. */
export function VelocityPad({ onChange }: { onChange: (velocity: Velocity | null) => void }) {
  const [held, setHeld] = useState<Velocity | null>(null);
  const set = (velocity: Velocity | null) => {
    setHeld(velocity);
    onChange(velocity);
  };
  return (
    <div
      role="application"
      aria-label="Drive pad: hold and drag (up is forward, sideways turns); letting go stops"
      data-testid="velocity-pad"
      className="relative mx-auto aspect-square w-56 touch-none select-none rounded-full bg-blue-100 ring-2 ring-blue-700"
      onPointerDown={(event) => {
        event.currentTarget.setPointerCapture(event.pointerId);
        set(speedsAt(event));
      }}
      onPointerMove={(event) => held && set(speedsAt(event))}
      onPointerUp={() => set(null)}
      onPointerCancel={() => set(null)}
      onLostPointerCapture={() => set(null)}
      onContextMenu={(event) => event.preventDefault()}
    >
      <span
        aria-hidden="true"
        className="absolute h-10 w-10 -translate-x-1/2 -translate-y-1/2 rounded-full bg-blue-700"
        style={{ left: `${50 - (held?.angular ?? 0) * 50}%`, top: `${50 - (held?.linear ?? 0) * 50}%` }}
      />
      <output
        className="absolute bottom-2 w-full text-center font-mono text-xs text-slate-800"
        data-testid="velocity"
      >
        {held ? `linear ${held.linear.toFixed(2)} · angular ${held.angular.toFixed(2)}` : "stopped"}
      </output>
    </div>
  );
}
