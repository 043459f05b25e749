// The "Autoscaling" part of report.html: replicas over time (desired, running, what the metrics
// recommended, and the decision without the avg() over-read), load per replica against its target,
// then the events, lag intervals, over-read points, guardrail holds and gaps as tables.
import type { AutoscaleSection } from './autoscale-schema.ts';
import { at } from './autoscale-markdown.ts';
import { NONE } from './format.ts';
import { esc, niceTicks } from './svg.ts';

const W = 760;
const H = 220;
const M = { l: 56, r: 16, t: 24, b: 32 };
const COLOR = { desired: '#2b6cb0', ready: '#2f855a', recommendation: '#dd6b20', corrected: '#6b46c1', target: '#c53030' };
const PALETTE = ['#2b6cb0', '#dd6b20', '#2f855a', '#6b46c1', '#b7791f', '#319795'];
const f1 = (n: number) => n.toFixed(1);

type Pt = { t: number; v: number | null };

/** A step line (values hold until the next sync), broken where there is no value. */
function steps(points: Pt[], x: (t: number) => number, y: (v: number) => number, end: number, color: string, name: string, dash = false): string {
  const segs: string[] = [];
  let cur: string[] = [];
  points.forEach((p, i) => {
    if (p.v === null) {
      if (cur.length) segs.push(cur.join(' '));
      cur = [];
      return;
    }
    const next = points[i + 1]?.t ?? end;
    cur.push(`${f1(x(p.t))},${f1(y(p.v))}`, `${f1(x(next))},${f1(y(p.v))}`);
  });
  if (cur.length) segs.push(cur.join(' '));
  return segs.map((s) => `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="5 3"' : ''} points="${s}"><title>${esc(name)}</title></polyline>`).join('');
}

function chart(title: string, series: { name: string; color: string; points: Pt[]; dash?: boolean }[], t0: number, t1: number, yLabel: (v: number) => string): string {
  const vals = series.flatMap((s) => s.points.map((p) => p.v)).filter((v): v is number => v !== null && Number.isFinite(v));
  const yTicks = niceTicks(Math.max(1, ...vals));
  const yMax = yTicks[yTicks.length - 1]!;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => M.l + ((t - t0) / span) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (Math.min(v, yMax) / yMax) * (H - M.t - M.b);
  const parts = [`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#cbd5e0"/>`];
  for (const v of yTicks) parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${f1(y(v))}" y2="${f1(y(v))}" stroke="#edf2f7"/><text x="${M.l - 6}" y="${f1(y(v) + 4)}" text-anchor="end">${esc(yLabel(v))}</text>`);
  for (const v of niceTicks(span, 6)) if (v <= span) parts.push(`<text x="${f1(x(t0 + v))}" y="${H - M.b + 16}" text-anchor="middle">${v >= 120 ? `${f1(v / 60)}m` : `${v}s`}</text>`);
  for (const s of series) parts.push(steps(s.points, x, y, t1, s.color, s.name, s.dash));
  // Legend entries placed by the length of their names (about 6 px a character at this size).
  let lx = M.l + 8;
  for (const s of series) {
    parts.push(`<rect x="${lx}" y="6" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="15">${esc(s.name)}</text>`);
    lx += 14 + s.name.length * 6 + 18;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}" font-family="system-ui,sans-serif" font-size="11" fill="#2d3748"><title>${esc(title)}</title>${parts.join('')}</svg>`;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

const n = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? NONE : Number.isInteger(v) ? String(v) : v.toFixed(d));

export function renderAutoscaleHtml(a: AutoscaleSection): string[] {
  const out: string[] = ['<h2>Autoscaling</h2>'];
  const kind = a.source.kind === 'hpa' ? 'HorizontalPodAutoscaler' : 'KEDA ScaledObject';
  out.push(`<p>${esc(`${a.mode === 'replay' ? 'Replay' : 'Live controller'} of ${kind} ${a.source.name} (${a.source.file}): replicas ${a.source.minReplicas}–${a.source.maxReplicas}, sync every ${a.syncPeriodSeconds} s; ${a.syncs} syncs, ${a.events.length} scale events, capacity lag ${a.lag.totalSeconds} s`)}${a.overRead.checked.length ? esc(`, avg() over-read adds up to ${a.overRead.maxExtraReplicas} replica(s)`) : ''}.</p>`);
  if (a.series.length === 0) return [...out, '<p class="muted">No syncs in the window.</p>'];
  const t0 = a.series[0]!.t;
  const t1 = a.series[a.series.length - 1]!.t + a.syncPeriodSeconds;
  const from = Date.parse(a.window.from) / 1000;
  const replicaSeries = [
    { name: 'desired', color: COLOR.desired, points: a.series.map((p) => ({ t: p.t, v: p.desired })) },
    { name: 'running', color: COLOR.ready, points: a.series.map((p) => ({ t: p.t, v: p.ready })) },
    { name: 'recommended by metrics', color: COLOR.recommendation, points: a.series.map((p) => ({ t: p.t, v: p.recommendation })), dash: true },
  ];
  if (a.overRead.points.length > 0) replicaSeries.push({ name: 'desired without over-read', color: COLOR.corrected, points: a.series.map((p) => ({ t: p.t, v: p.corrected })), dash: true });
  out.push(chart('replicas over time', replicaSeries, t0, t1, (v) => String(v)));

  const keys = [...new Set(a.series.flatMap((p) => Object.keys(p.metrics)))];
  const loadSeries = keys.flatMap((k, i) => {
    const unit = a.series.find((p) => p.metrics[k])?.metrics[k]?.unit ?? '';
    const target = a.series.find((p) => p.metrics[k]?.target !== null && p.metrics[k]?.target !== undefined)?.metrics[k]?.target ?? null;
    const line = { name: `${k}${unit ? ` (${unit})` : ''}`, color: PALETTE[i % PALETTE.length]!, points: a.series.map((p) => ({ t: p.t, v: p.metrics[k]?.current ?? null })) };
    return target === null ? [line] : [line, { name: `${k} target`, color: COLOR.target, points: a.series.map((p) => ({ t: p.t, v: target })), dash: true }];
  });
  if (loadSeries.length > 0) out.push(chart('load per replica against the target', loadSeries, t0, t1, (v) => String(v)));

  out.push('<h3>Scale events</h3>', table(['Time', 'From', 'To', 'Reason'], a.events.map((e) => [at(e.t, from), String(e.from), String(e.to), e.reason])) || '<p class="muted">The autoscaler never changed the replica count.</p>');
  out.push('<h3>Capacity lag</h3>', table(['From', 'To', 'Seconds', 'Replicas short', 'Load above target', 'Held back by'], a.lag.intervals.map((i) => [at(i.from, from), at(i.to, from), String(i.seconds), String(i.maxShortfall), i.maxExcessPct === null ? NONE : `${i.maxExcessPct}%`, i.causes.join(', ')])) || '<p class="muted">Capacity kept up with the load at every sync.</p>');
  if (a.overRead.checked.length > 0) {
    out.push('<h3>Scrape-gap over-read of avg()</h3>', table(['Time', 'Metric', 'Series / replicas', 'Missing', 'avg() read', 'sum ÷ replicas', 'Desired', 'Without over-read', 'Extra'], a.overRead.points.map((p) => [at(p.t, from), p.key, `${p.present} / ${p.pods}`, p.missing.join(', '), n(p.avgPresent), n(p.perReplica), n(p.desired), n(p.correctedDesired), String(p.extraReplicas)])) || '<p class="muted">No scrape was missing under an avg().</p>');
  }
  if (a.guardrailHolds.length > 0 || a.guardrailNoData.length > 0) {
    out.push('<h3>Guardrails</h3>', table(['Time', 'Guardrail', 'Wanted', 'Allowed', 'Why'], a.guardrailHolds.map((h) => [at(h.t, from), h.guardrail, String(h.wanted), String(h.allowed), h.detail])));
    out.push(...a.guardrailNoData.map((g) => `<p class="nodata">${esc(`No signal for guardrail ${g.guardrail} at ${g.syncs} sync(s) from ${at(g.first, from)}.`)}</p>`));
  }
  if (a.gaps.length > 0) out.push('<h3>Missing series</h3>', table(['From', 'To', 'Syncs', 'What', 'Detail'], a.gaps.map((g) => [at(g.from, from), at(g.to, from), String(g.syncs), g.what, g.detail])));
  if (a.liveDiff !== null) {
    const d = a.liveDiff;
    out.push('<h3>Replay against the live controller</h3>', `<p class="${d.differing.length === 0 ? 'pass' : 'fail'}">${esc(`${d.compared} sync(s) compared with ${d.log}: ${d.differing.length === 0 ? 'no difference in inputs or decisions' : `${d.differing.length} difference(s)`}`)}</p>`);
    out.push(table(['Time', 'Field', 'Live', 'Replay'], d.differing.slice(0, 50).map((x) => [at(x.t, from), x.path, JSON.stringify(x.live) ?? NONE, JSON.stringify(x.replay) ?? NONE])));
  }
  if (a.actuations.length > 0) out.push('<h3>Replicas started and stopped</h3>', table(['Time', 'Action', 'Gateway', 'Took', 'Outcome'], a.actuations.map((x) => [at(x.at, from), x.action, x.gateway, `${(x.ms / 1000).toFixed(1)} s`, x.ok ? 'ok' : `failed ${x.detail ?? ''}`])));
  return out;
}
