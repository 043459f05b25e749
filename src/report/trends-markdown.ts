// trends.md: the trend in a few lines for a CI job page (GitHub step summary, GitLab job
// artifacts): per scenario the newest run against the baseline and the runs before it, then the runs.
import { statusOfVerdict } from '../score/status.ts';
import { redact } from '../util/redact.ts';
import { formatMs, formatPct, NONE } from './format.ts';
import { separatorRow, tableRow } from './markdown.ts';
import { shortTime } from './trends-html.ts';
import type { Trends } from './trends-data.ts';

const change = (now: number | null | undefined, base: number | null | undefined): string =>
  now === null || now === undefined || base === null || base === undefined || base === 0 ? '' : ` (${now >= base ? '+' : ''}${(((now - base) / base) * 100).toFixed(1)} %)`;

export function renderTrendsMarkdown(t: Trends): string {
  const lines = [`# ClawStorm trends — ${t.runs.length} run${t.runs.length === 1 ? '' : 's'}`, ''];
  const newest = t.runs.at(-1);
  if (newest !== undefined) lines.push(`Newest: ${newest.runId} (${shortTime(newest.startedAt)} UTC) — **${statusOfVerdict(newest.verdict)}**`);
  lines.push(t.baseline ? `Baseline: ${t.baseline.runId} (${t.baseline.why}); changes in brackets are against it.` : 'Baseline: none (no run has passed yet).', '');
  const header = ['Scenario', 'P50', 'P95', 'P99', 'Error Rate', 'Throughput', 'Regressions', 'Failed gates'];
  lines.push(tableRow(header), separatorRow(header.length));
  for (const s of t.scenarios) {
    const last = [...s.points].reverse().find((p) => p !== null) ?? null;
    const base = t.baseline?.points[s.name];
    const count = (k: 'regression' | 'failed' | 'untrustedRegression') => s.points.filter((p) => p?.[k]).length;
    lines.push(
      tableRow([
        s.title,
        `${formatMs(last?.p50)}${change(last?.p50, base?.p50)}`,
        `${formatMs(last?.p95)}${change(last?.p95, base?.p95)}`,
        `${formatMs(last?.p99)}${change(last?.p99, base?.p99)}`,
        `${formatPct(last?.errorRate)}`,
        last?.throughput === null || last?.throughput === undefined ? NONE : `${last.throughput.toFixed(1)}/s${change(last.throughput, base?.throughput)}`,
        `${count('regression')} of ${s.points.filter((p) => p !== null).length}${count('untrustedRegression') > 0 ? ` (+${count('untrustedRegression')} inconclusive)` : ''}`,
        `${count('failed')} of ${s.points.filter((p) => p !== null).length}`,
      ]),
    );
  }
  lines.push('', '## Runs', '', tableRow(['Started (UTC)', 'Run', 'Build', 'Verdict', 'Judged against']), separatorRow(5));
  for (const r of t.runs) lines.push(tableRow([shortTime(r.startedAt), r.runId, r.build ?? NONE, `${statusOfVerdict(r.verdict)}${r.missing ? ` (${r.missing})` : ''}`, r.baselineRunId ?? NONE]));
  lines.push('');
  return redact(lines.join('\n'));
}
