// The "Canary analysis" part of report.html: the canary's share over time as steps, every
// analysis measurement as a mark on its metric's row (green Successful, red Failed, amber
// Inconclusive, grey Error), the abort or promotion marked, then the steps and measurements as
// tables.
import type { CanarySection } from './canary-schema.ts';
import { formatMs, formatPct, NONE, roundLongNumbers } from './format.ts';
import { esc } from './svg.ts';

const W = 760;
const M = { l: 150, r: 16, t: 24, b: 28 };
const SHARE_H = 120;
const ROW_H = 16;
const PHASE_COLOR: Record<string, string> = { Successful: '#2f855a', Failed: '#c53030', Inconclusive: '#b7791f', Error: '#718096', Running: '#a0aec0', Pending: '#a0aec0' };
const f1 = (n: number) => n.toFixed(1);

function timeline(c: CanarySection): string {
  const t0 = Date.parse(c.startedAt);
  const t1 = Math.max(Date.parse(c.endedAt), t0 + 1000);
  const names = [...new Set(c.steps.flatMap((s) => s.metrics.map((m) => m.name)))];
  const H = M.t + SHARE_H + 12 + names.length * ROW_H + M.b;
  const x = (ms: number) => M.l + ((ms - t0) / (t1 - t0)) * (W - M.l - M.r);
  const y = (pct: number) => M.t + SHARE_H - (pct / 100) * SHARE_H;
  const parts: string[] = [`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${SHARE_H}" fill="#fff" stroke="#cbd5e0"/>`];
  for (const v of [0, 50, 100]) parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${f1(y(v))}" y2="${f1(y(v))}" stroke="#edf2f7"/><text x="${M.l - 6}" y="${f1(y(v) + 4)}" text-anchor="end">${v} %</text>`);
  parts.push(`<text x="${M.l - 6}" y="${M.t - 8}" text-anchor="end">canary share</text>`);
  // The share as steps; after the last step, what the rollback or promotion left.
  const pts: string[] = [];
  for (const s of c.steps) pts.push(`${f1(x(Date.parse(s.startedAt)))},${f1(y(s.share))}`, `${f1(x(Date.parse(s.endedAt)))},${f1(y(s.share))}`);
  if (c.rolledBackAt !== null) pts.push(`${f1(x(Date.parse(c.rolledBackAt)))},${f1(y(0))}`, `${f1(x(t1))},${f1(y(0))}`);
  if (pts.length) parts.push(`<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="${pts.join(' ')}"><title>canary share of traffic</title></polyline>`);
  for (const s of c.steps) parts.push(`<text x="${f1(x(Date.parse(s.startedAt)) + 3)}" y="${f1(y(s.share) - 4)}" fill="#2b6cb0">${s.percent} %${s.surge ? ' surge' : s.injected ? ' bad' : ''}</text>`);
  const mark = c.abortedAt ?? (c.verdict === 'promote' ? c.endedAt : null);
  if (mark !== null) {
    const mx = x(Date.parse(mark));
    parts.push(`<line x1="${f1(mx)}" x2="${f1(mx)}" y1="${M.t}" y2="${H - M.b}" stroke="${c.verdict === 'promote' ? '#2f855a' : '#c53030'}" stroke-dasharray="4 3"/><text x="${f1(mx - 4)}" y="${M.t + 12}" text-anchor="end" fill="${c.verdict === 'promote' ? '#2f855a' : '#c53030'}">${esc(c.verdict)}${c.classification ? ` (${esc(c.classification.shape)})` : ''}</text>`);
  }
  names.forEach((n, i) => {
    const ry = M.t + SHARE_H + 12 + i * ROW_H + ROW_H / 2;
    parts.push(`<text x="${M.l - 6}" y="${f1(ry + 4)}" text-anchor="end">${esc(n)}</text><line x1="${M.l}" x2="${W - M.r}" y1="${f1(ry)}" y2="${f1(ry)}" stroke="#edf2f7"/>`);
    for (const s of c.steps) {
      for (const m of s.metrics.filter((mm) => mm.name === n)) {
        for (const me of m.measurements) parts.push(`<circle cx="${f1(x(Date.parse(me.at)))}" cy="${f1(ry)}" r="4" fill="${PHASE_COLOR[me.phase] ?? '#a0aec0'}"><title>${esc(`${s.percent} % ${n}: ${me.phase} ${me.value ?? ''} — ${me.detail}`)}</title></circle>`);
      }
    }
  });
  const span = (t1 - t0) / 1000;
  for (let v = 0; v <= span; v += span > 120 ? 30 : 10) parts.push(`<text x="${f1(x(t0 + v * 1000))}" y="${H - 8}" text-anchor="middle">${v}s</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="canary weight steps and analysis measurements" font-family="system-ui,sans-serif" font-size="11" fill="#2d3748"><title>canary weight steps and analysis measurements</title>${parts.join('')}</svg>`;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

const side = (s: CanarySection['steps'][number]['canary']) => `${s.requests} req, p99 ${formatMs(s.p99Ms)}, errors ${formatPct(s.errorRate)}${s.rejected ? `, turned away ${formatPct(s.rejectedRate)}` : ''}`;

export function renderCanaryHtml(c: CanarySection): string[] {
  const out = [
    '<h2>Canary analysis</h2>',
    `<p>Canary <b>${esc(c.canary)}</b> against ${esc(c.stable.join(', '))}, steps ${esc(c.plannedSteps.join(' → '))} %. Verdict: <b>${esc(c.verdict)}</b>${c.classification ? ` — <b>${esc(c.classification.shape)}</b>` : ''}: ${esc(c.reason)}</p>`,
  ];
  if (c.classification) out.push(`<ul>${c.classification.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
  if (c.abortedAt !== null) out.push(`<p>Canary weight after the rollback: ${esc(String(c.canaryWeightAfter ?? NONE))}${c.badStepToRollbackSeconds !== null ? `; from the bad step to the rollback ${c.badStepToRollbackSeconds.toFixed(1)} s (${c.badStepToAbortWindows?.toFixed(2) ?? NONE} analysis windows to the abort)` : ''}.</p>`);
  if (c.rollbackProblems.length) out.push(`<p><b>Rollback problems:</b> ${esc(c.rollbackProblems.join('; '))}</p>`);
  out.push(timeline(c));
  out.push(
    table(
      ['Step', 'Share', 'Analysis', 'Judge', 'Canary', 'Stable', 'Phase'],
      c.steps.map((s) => [`${s.percent} %${s.surge ? ' (capacity surge)' : s.injected ? ' (bad version)' : ''}`, `${s.share.toFixed(1)} %`, roundLongNumbers(`${s.analysisPhase}${s.analysisReason ? `: ${s.analysisReason}` : ''}`), s.judge ? `${s.judge.score} ${s.judge.classification}` : `not run (${s.judgeSkipped ?? ''})`, side(s.canary), side(s.stable), s.phase]),
    ),
  );
  out.push(
    table(
      ['Step', 'Metric', 'Phase', 'Measurements'],
      c.steps.flatMap((s) => s.metrics.map((m) => [`${s.percent} %`, `${m.name}${m.dryRun ? ' (dry run)' : ''}`, m.phase, roundLongNumbers(m.measurements.map((x) => `${x.value ?? NONE} ${x.phase}`).join(', '))])),
    ),
  );
  return out;
}
