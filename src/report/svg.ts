// Inline SVG for report.html: one chart frame every chart shares — axes, ticks, a legend laid
// out above the plot area (never over the lines), and a title for screen readers. Text widths
// are estimated (no layout engine in a static file): CHAR_W is on the wide side of the average
// glyph of an 11 px system sans font, so estimated boxes contain the real ones.

export const W = 760;
export const FONT_PX = 11;
/** Estimated width of one character at FONT_PX, in px (on the generous side). */
export const CHAR_W = 6.4;
/** Left and right margins of every plot: charts stacked on one page share their x axis. */
export const MARGIN = { l: 64, r: 16 } as const;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export const f1 = (n: number): string => n.toFixed(1);

export function textWidth(s: string): number {
  return s.length * CHAR_W;
}

/** Round-number axis ticks covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  return rangeTicks(0, max, count);
}

/** Round-number ticks covering [min, max]. */
export function rangeTicks(min: number, max: number, count = 5): number[] {
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return [min, min + 1];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

export function timeLabel(v: number): string {
  return Math.abs(v) >= 120 ? `${f1(v / 60)}m` : `${v}s`;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LegendItem {
  color: string;
  label: string;
  /** A swatch box (bars, shaded windows) or a line (series, marks). */
  shape?: 'box' | 'line' | 'dash';
}

/** Legend items in rows across the chart's width, from `top`; returns the SVG and its height. */
export function legendAbove(items: readonly LegendItem[], top: number, left = MARGIN.l, right = W - MARGIN.r): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  const rowH = 16;
  let x = left;
  let row = 0;
  const parts: string[] = [];
  for (const it of items) {
    const w = 18 + textWidth(it.label) + 16;
    if (x + w > right && x > left) {
      row += 1;
      x = left;
    }
    const y = top + row * rowH;
    const shape = it.shape ?? 'line';
    parts.push(
      shape === 'box'
        ? `<rect class="legend-key" x="${f1(x)}" y="${y + 2}" width="12" height="10" fill="${it.color}"/>`
        : `<line class="legend-key" x1="${f1(x)}" x2="${f1(x + 12)}" y1="${y + 7}" y2="${y + 7}" stroke="${it.color}" stroke-width="2"${shape === 'dash' ? ' stroke-dasharray="3,2"' : ''}/>`,
    );
    parts.push(`<text class="legend-label" x="${f1(x + 16)}" y="${y + 11}">${esc(it.label)}</text>`);
    x += w;
  }
  return { svg: parts.join(''), height: (row + 1) * rowH };
}

export interface ChartSpec {
  label: string;
  legend: LegendItem[];
  /** Plot height in px (the SVG grows by the legend and the axes). */
  plotH?: number;
  x: { min: number; max: number; ticks: Array<{ v: number; label: string }> };
  y: { max: number; ticks: number[]; label: (v: number) => string };
  /** The chart's own marks, given the scales and the plot area. */
  draw: (x: (v: number) => number, y: (v: number) => number, plot: Rect) => string;
}

/** A chart: legend on top, then the plot (class="plot") with its grid, axes labels and marks. */
export function chart(spec: ChartSpec): string {
  const legend = legendAbove(spec.legend, 6);
  const top = 6 + legend.height + (legend.height > 0 ? 6 : 0);
  const plot: Rect = { x: MARGIN.l, y: top, w: W - MARGIN.l - MARGIN.r, h: spec.plotH ?? 180 };
  const h = plot.y + plot.h + 24;
  const x = (v: number) => plot.x + ((v - spec.x.min) / (spec.x.max - spec.x.min || 1)) * plot.w;
  const y = (v: number) => plot.y + plot.h - (Math.min(v, spec.y.max) / (spec.y.max || 1)) * plot.h;
  const parts = [`<title>${esc(spec.label)}</title>`, `<rect class="plot" x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="#fff" stroke="#cbd5e0"/>`];
  for (const t of spec.y.ticks) {
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#edf2f7"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${f1(y(t) + 4)}" text-anchor="end">${esc(spec.y.label(t))}</text>`);
  }
  for (const t of spec.x.ticks) parts.push(`<text x="${f1(x(t.v))}" y="${plot.y + plot.h + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  parts.push(`<svg x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" viewBox="${plot.x} ${plot.y} ${plot.w} ${plot.h}" overflow="hidden">${spec.draw(x, y, plot)}</svg>`);
  parts.push(legend.svg);
  return svgRoot(W, h, spec.label, parts.join(''));
}

export function svgRoot(w: number, h: number, label: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f1(w)} ${f1(h)}" width="100%" role="img" aria-label="${esc(label)}" font-family="system-ui,sans-serif" font-size="${FONT_PX}" fill="#2d3748">${body}</svg>`;
}

/** Polyline segments, broken where a point has no value (a second in which nothing completed). */
export function polylines(points: ReadonlyArray<{ x: number; y: number | null }>, color: string, name: string, width = 1.5): string {
  const segs: string[][] = [];
  let cur: string[] = [];
  for (const p of points) {
    if (p.y === null) {
      if (cur.length) segs.push(cur);
      cur = [];
    } else cur.push(`${f1(p.x)},${f1(p.y)}`);
  }
  if (cur.length) segs.push(cur);
  return segs
    .map((s) => {
      if (s.length > 1) return `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${s.join(' ')}"><title>${esc(name)}</title></polyline>`;
      const [cx, cy] = s[0]!.split(',');
      return `<circle cx="${cx}" cy="${cy}" r="1.5" fill="${color}"><title>${esc(name)}</title></circle>`;
    })
    .join('');
}
