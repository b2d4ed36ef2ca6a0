// A stacked bar chart in plain SVG: periods on x, one colour per series. Small enough that the
// console needs no chart library.
export interface BarDatum {
  x: string;
  series: string;
  value: number;
}

const COLOURS = ["#3a5bd9", "#e07a2f", "#2f9e6e", "#b8428f", "#8a8f22", "#5a6b8c", "#c2413b", "#2a9bb8"];

export function BarChart({ data, label, height = 220 }: { data: BarDatum[]; label: string; height?: number }) {
  const xs = [...new Set(data.map((d) => d.x))];
  const series = [...new Set(data.map((d) => d.series))];
  const totals = xs.map((x) => data.filter((d) => d.x === x).reduce((s, d) => s + d.value, 0));
  const max = Math.max(1e-9, ...totals);
  const width = Math.max(240, xs.length * 36 + 50);
  const band = (width - 50) / Math.max(1, xs.length);
  const plot = height - 30;
  const colour = (s: string) => COLOURS[series.indexOf(s) % COLOURS.length];
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} width={width} height={height} style={{ maxWidth: "100%", height: "auto" }}>
        <text x={0} y={14} fontSize="10" fill="#555">
          {max.toFixed(2)}
        </text>
        <line x1={48} x2={width} y1={10} y2={10} stroke="#e5e7eb" />
        <line x1={48} x2={width} y1={plot} y2={plot} stroke="#9ca3af" />
        {xs.map((x, i) => {
          let y = plot;
          return (
            <g key={x}>
              {series.map((s) => {
                const value = data.find((d) => d.x === x && d.series === s)?.value ?? 0;
                const h = (value / max) * (plot - 10);
                y -= h;
                return (
                  <rect key={s} x={50 + i * band + band * 0.15} y={y} width={band * 0.7} height={h} fill={colour(s)}>
                    <title>{`${x} · ${s}: ${value.toFixed(2)}`}</title>
                  </rect>
                );
              })}
              {(xs.length <= 16 || i % Math.ceil(xs.length / 12) === 0) && (
                <text x={50 + i * band + band / 2} y={height - 12} fontSize="10" textAnchor="middle" fill="#555">
                  {x.length > 7 ? x.slice(5) : x}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {series.length > 1 && (
        <figcaption className="legend">
          {series.map((s) => (
            <span key={s}>
              <i style={{ background: colour(s) }} /> {s || "(none)"}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
