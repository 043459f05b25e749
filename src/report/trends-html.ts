// trends.html: one self-contained page (inline CSS and SVG, no scripts) of the runs over time.
// Per scenario: P50/P95/P99, error rate and throughput, one point per run; a failed gate is a
// red square on the x axis, a regression against the baseline a red ring on the P99 point, and
// the baseline run's value a dashed line across. Then the runs themselves.
import { statusOfVerdict } from '../score/status.ts';
import { redact } from '../util/redact.ts';
import { formatMs, formatPct, NONE } from './format.ts';
import { chart, esc, f1, niceTicks, polylines, type LegendItem } from './svg.ts';
import type { ScenarioTrend, Trends } from './trends-data.ts';

const COLORS = { p50: '#2b6cb0', p95: '#dd6b20', p99: '#c53030', err: '#c53030', tput: '#2f855a', base: '#4a5568', fail: '#c53030', untrusted: '#d69e2e' };
type Key = 'p50' | 'p95' | 'p99' | 'errorRate' | 'throughput';

const finite = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);

/** `11-29 21:50` from an ISO time (UTC). */
export function shortTime(iso: string): string {
  return iso.slice(5, 16).replace('T', ' ');
}

function xTicks(t: Trends): Array<{ v: number; label: string }> {
  const n = t.runs.length;
  const step = Math.max(1, Math.ceil(n / 8));
  return t.runs.map((r, i) => ({ v: i, label: shortTime(r.startedAt) })).filter((_, i) => i % step === 0 || i === n - 1);
}

interface Series {
  key: Key;
  label: string;
  color: string;
}

function trendChart(t: Trends, s: ScenarioTrend, title: string, series: Series[], fmt: (v: number) => string, markRegression: Key | null): string {
  const base = t.baseline?.points[s.name];
  const values = s.points.flatMap((p) => series.map((x) => p?.[x.key] ?? null)).filter(finite);
  const baseValues = series.map((x) => base?.[x.key]).filter(finite);
  if (values.length === 0) return `<p class="muted">${esc(title)}: no data in these runs.</p>`;
  const yTicks = niceTicks(Math.max(...values, ...baseValues) * 1.05);
  const n = t.runs.length;
  const legend: LegendItem[] = series.map((x) => ({ color: x.color, label: x.label }));
  if (baseValues.length > 0) legend.push({ color: COLORS.base, label: `baseline ${t.baseline!.runId}`, shape: 'dash' });
  if (s.points.some((p) => p?.failed)) legend.push({ color: COLORS.fail, label: 'gate failed', shape: 'box' });
  if (markRegression && s.points.some((p) => p?.regression)) legend.push({ color: COLORS.fail, label: 'regression vs baseline (ring)' });
  if (markRegression && s.points.some((p) => p?.untrustedRegression)) legend.push({ color: COLORS.untrusted, label: 'regression measured on a saturated host: inconclusive (dashed ring)', shape: 'dash' });
  return chart({
    label: `${s.title}: ${title} per run`,
    legend,
    plotH: 150,
    x: { min: -0.5, max: n - 0.5, ticks: xTicks(t) },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: fmt },
    draw: (x, y, plot) => {
      const parts: string[] = [];
      for (const sr of series) {
        const b = base?.[sr.key];
        if (finite(b)) parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${f1(y(b))}" y2="${f1(y(b))}" stroke="${COLORS.base}" stroke-dasharray="5,3"><title>${esc(`baseline ${sr.label}: ${fmt(b)}`)}</title></line>`);
      }
      for (const sr of series) {
        parts.push(polylines(s.points.map((p, i) => ({ x: x(i), y: finite(p?.[sr.key]) ? y(p[sr.key]!) : null })), sr.color, `${s.title} ${sr.label}`));
        s.points.forEach((p, i) => {
          const v = p?.[sr.key];
          if (!finite(v)) return;
          parts.push(`<circle cx="${f1(x(i))}" cy="${f1(y(v))}" r="2.5" fill="${sr.color}"><title>${esc(`${t.runs[i]!.runId} ${sr.label}: ${fmt(v)}`)}</title></circle>`);
          if (markRegression === sr.key && p?.untrustedRegression) parts.push(`<circle class="regression-untrusted" cx="${f1(x(i))}" cy="${f1(y(v))}" r="7" fill="none" stroke="${COLORS.untrusted}" stroke-width="2" stroke-dasharray="3,2"><title>${esc(`${t.runs[i]!.runId}: regression measured, but on a saturated host or generator: inconclusive`)}</title></circle>`);
          if (markRegression === sr.key && p?.regression) parts.push(`<circle class="regression" cx="${f1(x(i))}" cy="${f1(y(v))}" r="7" fill="none" stroke="${COLORS.fail}" stroke-width="2"><title>${esc(`${t.runs[i]!.runId}: regression against the baseline`)}</title></circle>`);
        });
      }
      s.points.forEach((p, i) => {
        if (p?.failed) parts.push(`<rect class="gate-failed" x="${f1(x(i) - 4)}" y="${f1(plot.y + plot.h - 8)}" width="8" height="8" fill="${COLORS.fail}"><title>${esc(`${t.runs[i]!.runId}: gate failed`)}</title></rect>`);
      });
      return parts.join('');
    },
  });
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#1a202c;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e2e8f0}h3{font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f7fafc}.pass{color:#22543d;background:#f0fff4}.fail{color:#742a2a;background:#fff5f5}.nodata{color:#744210;background:#fffff0}.inconclusive{color:#553c9a;background:#faf5ff}.muted{color:#718096}
svg{display:block;margin:4px 0 12px}`;

const cls = (v: string): string => (v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : v === 'inconclusive' ? 'inconclusive' : 'nodata');

function runsTable(t: Trends): string {
  const rows = t.runs.map((r) => {
    const i = t.runs.indexOf(r);
    const regressed = [
      ...t.scenarios.filter((s) => s.points[i]?.regression).map((s) => s.title),
      ...t.scenarios.filter((s) => s.points[i]?.untrustedRegression).map((s) => `${s.title} (inconclusive: saturated)`),
    ];
    const cells = [shortTime(r.startedAt), r.runId, r.build ?? NONE, r.commit?.slice(0, 12) ?? NONE, `${r.profile} · ${r.target}`, r.baselineRunId ?? NONE, regressed.length ? regressed.join(', ') : NONE];
    return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}<td class="${cls(r.verdict)}">${esc(statusOfVerdict(r.verdict))}${r.missing ? ` (${esc(r.missing)})` : ''}</td></tr>`;
  });
  const head = ['Started (UTC)', 'Run', 'Build', 'Commit', 'Profile · target', 'Judged against', 'Regressions', 'Verdict'].map((h) => `<th>${esc(h)}</th>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

export function renderTrendsHtml(t: Trends): string {
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ClawStorm trends</title><style>${CSS}</style></head><body>`,
    `<h1>ClawStorm trends — ${t.runs.length} run${t.runs.length === 1 ? '' : 's'}</h1>`,
    `<p>${t.runs.length > 0 ? `${esc(shortTime(t.runs[0]!.startedAt))} → ${esc(shortTime(t.runs.at(-1)!.startedAt))} (UTC). ` : ''}${t.baseline ? `Baseline: ${esc(t.baseline.runId)} (${esc(t.baseline.why)}), the dashed line.` : 'No baseline: no run has passed yet.'}</p>`,
  ];
  if (t.scenarios.length === 0) parts.push('<p class="muted">No scenario results in these runs.</p>');
  for (const s of t.scenarios) {
    parts.push(`<h2>${esc(s.title)}</h2>`);
    parts.push(trendChart(t, s, 'latency', [{ key: 'p50', label: 'P50', color: COLORS.p50 }, { key: 'p95', label: 'P95', color: COLORS.p95 }, { key: 'p99', label: 'P99', color: COLORS.p99 }], (v) => formatMs(v, { trim: true }), 'p99'));
    parts.push(trendChart(t, s, 'error rate', [{ key: 'errorRate', label: 'error rate', color: COLORS.err }], (v) => formatPct(v, { trim: true }), null));
    parts.push(trendChart(t, s, 'throughput', [{ key: 'throughput', label: 'requests/s', color: COLORS.tput }], (v) => `${Number(v.toPrecision(4))}/s`, null));
  }
  parts.push('<h2>Runs</h2>', runsTable(t), '</body></html>\n');
  return redact(parts.join('\n'));
}

