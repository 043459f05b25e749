// Drill and storm reports, and the layout of report.html's pictures: what a game day looks at
// instead of an empty load-test table, legends beside (not over) the lines, timeline labels
// inside the picture, a thresholds table that fits the page.
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../../src/report/html.ts';
import { renderMarkdown } from '../../../src/report/markdown.ts';
import { parseResults, type Results } from '../../../src/report/results.ts';
import { CHAR_W } from '../../../src/report/svg.ts';
import { drillResults, sampleResults } from './fixtures.ts';

const drills = parseResults(drillResults());
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const num = (tag: string, attr: string): number => Number(new RegExp(`\\s${attr}="([-\\d.]+)"`).exec(tag)?.[1] ?? Number.NaN);

interface Svg {
  label: string;
  width: number;
  height: number;
  body: string;
}

/** The top-level pictures of a page (nested plot viewports have no xmlns). */
function svgs(html: string): Svg[] {
  return html
    .split('<svg xmlns=')
    .slice(1)
    .map((chunk) => {
      const vb = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(chunk)!;
      return { label: unescape(/aria-label="([^"]*)"/.exec(chunk)![1]!), width: Number(vb[1]), height: Number(vb[2]), body: chunk.slice(0, chunk.lastIndexOf('</svg>')) };
    });
}

function plotRect(s: Svg): { x: number; y: number; w: number; h: number } | undefined {
  const tag = /<rect class="plot"[^>]*>/.exec(s.body)?.[0];
  return tag === undefined ? undefined : { x: num(tag, 'x'), y: num(tag, 'y'), w: num(tag, 'width'), h: num(tag, 'height') };
}

describe('a drill or storm run (no scenario ran)', () => {
  const md = renderMarkdown(drills);
  const html = renderHtml(drills);

  it('has no empty five-scenario table and no "No latency percentiles"', () => {
    for (const [name, text] of [['results.md', md], ['report.html', html]] as const) {
      expect(text, name).not.toContain('Briefing Generation');
      expect(text, name).not.toContain('No latency percentiles');
      expect(text, name).not.toMatch(/Load test results/);
    }
    expect(md).not.toContain('(no metric rows were scored)');
  });

  it('results.md: the timeline, the client per fault window, a storm’s answers per second per discipline', () => {
    expect(md).toContain('| 15.0 s | gw-1 crashed (SIGKILL) | fault |');
    expect(md).toContain('| before the fault | 0.0 s | 15.0 s | 90 | 0.00% | 40.0 ms | 70.0 ms | 95.0 ms |');
    expect(md).toContain('| fault: gw-1 crashed (SIGKILL) | 15.0 s | 38.0 s | 138 | 4.35% | 90.0 ms | 600 ms | 2.40 s |');
    expect(md).toContain('| after recovery | 38.0 s | 60.0 s | 132 | 0.00% |');
    expect(md).toContain('capped: answers per second (t from the storm\'s start):');
    expect(md).toContain('| 4 s | 60 | 32 | 30 | 1 |');
    expect(md).toContain('unbounded: answers per second');
  });

  it('report.html: client latency and error rate per second, faults shaded and marks on the timeline’s axis', () => {
    const pics = svgs(html);
    const labels = pics.map((p) => p.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        'Gateway pair failover: client latency per second',
        'Gateway pair failover: client error rate per second',
        'Gateway pair failover timeline',
        'Webhook retry storm: capped — answers per second',
        'Webhook retry storm: unbounded — answers per second',
      ]),
    );
    const byLabel = (l: string) => pics.find((p) => p.label === l)!;
    const latency = byLabel('Gateway pair failover: client latency per second');
    const timeline = byLabel('Gateway pair failover timeline');
    const faultX = (s: Svg) => [...s.body.matchAll(/<rect class="fault"[^>]*>/g)].map((m) => [num(m[0], 'x'), num(m[0], 'width')]);
    // One fault window, 15 s → 38 s, at the same place on the chart and on the timeline.
    expect(faultX(latency)).toHaveLength(1);
    expect(faultX(latency)).toEqual(faultX(timeline));
    const plot = plotRect(latency)!;
    const [x, w] = faultX(latency)[0]!;
    const scale = plot.w / 60; // the axis ends at 60 s
    expect(x).toBeCloseTo(plot.x + 15 * scale, 0);
    expect(w).toBeCloseTo(23 * scale, 0);
    // Detection and recovery marks: every measure and recover event, as vertical lines across the plot.
    const marks = [...latency.body.matchAll(/<line class="mark"[^>]*>/g)].map((m) => num(m[0], 'x1'));
    expect(marks).toHaveLength(5);
    expect(marks[0]).toBeCloseTo(plot.x + 15.9 * scale, 0);
    // The storm's charts shade only their own discipline's fault.
    expect(faultX(byLabel('Webhook retry storm: capped — answers per second'))).toHaveLength(1);
  });

  it('a drill without a recorded client series says so instead of drawing nothing', () => {
    const r = drillResults();
    r.drills![0]!.series = [];
    expect(renderHtml(parseResults(r))).toContain('No per-second series was recorded for this run.');
  });
});

describe('report.html layout', () => {
  const pages: Array<[string, Results]> = [
    ['sample run', parseResults(sampleResults())],
    ['drill run', drills],
  ];

  it.each(pages)('%s: every legend sits outside the plot area (above it), inside the picture', (_n, r) => {
    let checked = 0;
    for (const s of svgs(renderHtml(r))) {
      const plot = plotRect(s);
      if (plot === undefined) continue;
      for (const m of s.body.matchAll(/<(rect|line|text) class="legend-(?:key|label)"[^>]*>([^<]*)/g)) {
        const tag = m[0];
        const bottom = m[1] === 'rect' ? num(tag, 'y') + num(tag, 'height') : m[1] === 'line' ? num(tag, 'y1') : num(tag, 'y') + 3;
        expect(bottom, `${s.label}: legend at ${tag} reaches into the plot (top ${plot.y})`).toBeLessThanOrEqual(plot.y);
        if (m[1] === 'text') expect(num(tag, 'x') + unescape(m[2]!).length * CHAR_W, `${s.label}: legend label cut`).toBeLessThanOrEqual(s.width);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(4);
  });

  it.each(pages)('%s: no timeline label runs past its picture', (_n, r) => {
    let checked = 0;
    for (const s of svgs(renderHtml(r))) {
      for (const m of s.body.matchAll(/<text class="tl-label"[^>]*>([^<]*)<\/text>/g)) {
        const width = unescape(m[1]!).length * CHAR_W;
        const x = num(m[0], 'x');
        const end = /text-anchor="end"/.test(m[0]);
        if (end) expect(x - width, `${s.label}: "${m[1]}" starts left of the picture`).toBeGreaterThanOrEqual(0);
        else expect(x + width, `${s.label}: "${m[1]}" ends past the picture (${s.width})`).toBeLessThanOrEqual(s.width);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('the thresholds table fits the page: fixed layout, PromQL in wrapping code cells, numbers in their unit', () => {
    const html = renderHtml(drills);
    const table = html.slice(html.indexOf('<h2>Thresholds</h2>'));
    expect(table).toMatch(/<table class="thresholds fixed"><colgroup>/);
    expect(html).toMatch(/code\{[^}]*overflow-wrap:anywhere/);
    expect(table).toContain('<td><code>min(min_over_time(clawstorm:gateway_up');
    expect(table).toContain('<td>1000 ms</td>');
    expect(table).toContain('worst 0.0001989 meets &lt; 0.1');
    expect(table).not.toContain('0.00019886363636363642');
  });
});
