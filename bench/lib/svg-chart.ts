// A small SVG line chart for the benchmark curves (bench/results/*.svg): one or more series of (x, y) points, linear
// axes from zero with round ticks, a legend, each point marked and labelled with its value. Hand-written (about a
// hundred lines) rather than a charting library: the benches need lines, ticks and text, nothing a browser must run.

export interface Series {
  name: string;
  points: [number, number][];
  /** Where each point's value is written; `below` keeps it apart from a series just above. Default `above`. */
  labels?: 'above' | 'below';
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks up to `max`. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function label(n: number): string {
  if (Math.abs(n) >= 10_000) return `${Math.round(n / 1000)}k`;
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(n < 10 ? 2 : 1).replace(/\.?0+$/, '');
}

export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const m = { left: 70, right: 20, top: 40, bottom: 80 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`chart "${spec.title}": no points`);
  const xStep = niceStep(Math.max(...all.map((p) => p[0])));
  const yStep = niceStep(Math.max(...all.map((p) => p[1])));
  const xMax = Math.ceil(Math.max(...all.map((p) => p[0])) / xStep) * xStep || xStep;
  const yMax = Math.ceil(Math.max(...all.map((p) => p[1])) / yStep) * yStep || yStep;
  const x = (v: number) => m.left + (v / xMax) * pw;
  const y = (v: number) => m.top + ph - (v / yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(
      `<line x1="${m.left}" y1="${y(v)}" x2="${m.left + pw}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`,
    );
  }
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    out.push(
      `<line x1="${x(v)}" y1="${m.top + ph}" x2="${x(v)}" y2="${m.top + ph + 5}" stroke="#333"/>`,
      `<text x="${x(v)}" y="${m.top + ph + 18}" text-anchor="middle">${label(v)}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${m.top + ph + 38}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  // A point two series share (same x, same value) is labelled once: the second label would print over the lines.
  const labelled = new Set<string>();
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [a, b] of pts) {
      out.push(`<circle cx="${x(a).toFixed(1)}" cy="${y(b).toFixed(1)}" r="3" fill="${color}"/>`);
      const key = `${a} ${label(b)}`;
      if (labelled.has(key)) continue;
      labelled.add(key);
      out.push(
        `<text x="${x(a).toFixed(1)}" y="${(s.labels === 'below' ? y(b) + 15 : y(b) - 7).toFixed(1)}" text-anchor="middle" font-size="10" fill="${color}">${label(b)}</text>`,
      );
    }
    const ly = height - 22 + 0;
    const lx = m.left + i * Math.floor(pw / Math.max(1, spec.series.length));
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 22}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
