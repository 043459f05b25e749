// The console's lines for what a run found: the same status words as every report format
// (from ./cells.ts and src/score/status.ts), padded so a column of verdicts lines up.
import { statusColumn } from '../score/status.ts';
import type { Verdict } from '../score/types.ts';
import { drillStatus, scenarioStatus } from './cells.ts';
import { formatMs } from './format.ts';
import type { ScenarioResult } from './results.ts';

type ScenarioLine = Pick<ScenarioResult, 'name' | 'status' | 'reasons' | 'requests' | 'errors' | 'p50' | 'p95' | 'p99' | 'dropped'>;

/** `policy-evaluation: Pass — 500 requests, 0 errors, p50 9.89 ms p95 54.7 ms p99 109 ms` */
export function scenarioLine(r: ScenarioLine): string {
  return (
    `${r.name}: ${scenarioStatus(r)} — ${r.requests} requests, ${r.errors} errors, p50 ${formatMs(r.p50)} p95 ${formatMs(r.p95)} p99 ${formatMs(r.p99)}` +
    (r.dropped > 0 ? `, ${r.dropped} dropped starts` : '')
  );
}

/** `  Fail         policy p95: p(95) = 120.5 ms violates < 100 ms` */
export function thresholdLine(t: { verdict: Verdict; name: string; detail: string }): string {
  return `  ${statusColumn(t.verdict)} ${t.name}: ${t.detail}`;
}

/** `  Fail (not gating)         application / Request throughput (req/s): below target` */
export function metricLine(m: { verdict: Verdict; gate: boolean; group: string; metric: string; detail: string }): string {
  return `  ${statusColumn(m.verdict, m.gate)} ${m.group} / ${m.metric}: ${m.detail}`;
}

/** `Gateway pair failover: Inconclusive (load generator saturated: …)`; other reasons follow a dash. */
export function drillLine(d: { title: string; status: ScenarioResult['status']; reasons?: readonly string[] | undefined }): string {
  const status = drillStatus(d);
  const more = d.status !== 'Inconclusive' && d.reasons !== undefined && d.reasons.length > 0 ? ` — ${d.reasons.join('; ')}` : '';
  return `${d.title}: ${status}${more}`;
}
