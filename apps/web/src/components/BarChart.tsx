export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** A small SVG bar chart; its figure caption and aria-label carry the numbers for screen readers. */
export function BarChart({
  title,
  bars,
  format,
}: {
  title: string;
  bars: Bar[];
  format: (value: number) => string;
}) {
  const width = 320;
  const height = 140;
  const max = Math.max(...bars.map((bar) => bar.value), 0) || 1;
  const slot = bars.length ? width / bars.length : width;
  const summary = bars.map((bar) => `${bar.label}: ${format(bar.value)}`).join(", ");
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-3">
      <figcaption className="mb-2 font-semibold">{title}</figcaption>
      {bars.length === 0 ? (
        <p className="text-sm text-slate-600">No data yet.</p>
      ) : (
        <svg
          viewBox={`0 0 ${width} ${height + 20}`}
          role="img"
          aria-label={`${title}. ${summary}`}
          className="w-full"
        >
          {bars.map((bar, index) => {
            const h = (bar.value / max) * (height - 16);
            const x = index * slot + slot * 0.15;
            return (
              <g key={bar.label}>
                <rect x={x} y={height - h} width={slot * 0.7} height={h} className="fill-blue-700" />
                <text
                  x={x + slot * 0.35}
                  y={height - h - 3}
                  textAnchor="middle"
                  className="fill-slate-800 text-[9px]"
                >
                  {format(bar.value)}
                </text>
                <text
                  x={x + slot * 0.35}
                  y={height + 14}
                  textAnchor="middle"
                  className="fill-slate-700 text-[9px]"
                >
                  {bar.label}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}
