// The gateway probe section (plan §5): per gateway its samples, probe latency and degraded
// samples; then any drift and disagreement. One table, rendered for Markdown and HTML.
import type { z } from 'zod';
import { figureText, formatMs } from './format.ts';
import type { ProbeSummarySchema } from './results.ts';

type ProbeSummary = z.output<typeof ProbeSummarySchema>;

export const PROBE_HEADER = ['Gateway', 'Probe', 'Samples', 'P50', 'P95', 'Max', 'Degraded', 'Not answered'];

export function probeRows(p: ProbeSummary): string[][] {
  return p.gateways.map((g) => [
    g.gateway,
    `${g.kind} ${g.path}`,
    String(g.samples),
    formatMs(g.p50Ms),
    formatMs(g.p95Ms),
    formatMs(g.maxMs),
    g.degradedSamples === 0 ? '0' : `${g.degradedSamples} (first at ${figureText(g.firstDegradedAt)} s${g.degradedReasons.length ? `: ${g.degradedReasons.join(', ')}` : ''})`,
    g.problems === 0 ? '0' : `${g.problems} (${g.firstProblem ?? 'no answer'})`,
  ]);
}

/** Lines after the table: drift and disagreements, or that there were none. */
export function probeNotes(p: ProbeSummary): string[] {
  const notes = [...p.drift.map((d) => `Drift: ${d}`), ...p.disagreements.map((d) => `Disagreement: ${d}`)];
  return notes.length > 0 ? notes : ['No drift: every gateway answered on one path and shape, in step with the load balancer and Prometheus.'];
}
