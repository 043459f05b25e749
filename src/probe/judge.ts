// What a run's probe samples say, as figures and thresholds (plan §5). Pure: the same samples
// always give the same verdicts.
import { LatencyHistogram } from '../load/histogram.ts';
import type { ThresholdResult } from '../score/types.ts';
import type { ProbeSample } from './sampler.ts';

/** plan §5: each gateway answers its probe in < 200 ms at P95. */
export const PROBE_P95_LIMIT_MS = 200;
/** A probe may disagree with the load balancer or Prometheus this long (their checks lag). */
export const DISAGREEMENT_TOLERATED_S = 5;

export interface GatewayProbeSummary {
  gateway: string;
  kind: 'composite' | 'readyz';
  path: string;
  samples: number;
  /** Samples that answered on contract. */
  answered: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  degradedSamples: number;
  /** Seconds since the run started, of the first degraded sample. */
  firstDegradedAt: number | null;
  degradedReasons: string[];
  /** Samples that did not answer or answered off contract, with the first problem. */
  problems: number;
  firstProblem: string | null;
}

export interface ProbeSummary {
  gateways: GatewayProbeSummary[];
  /** Differences between gateways in path, probe kind, schema version or detail fields. */
  drift: string[];
  /** Sustained disagreements of a probe with the load balancer or Prometheus. */
  disagreements: string[];
}

function answeredUp(s: ProbeSample): boolean {
  return s.valid && s.status !== null && s.status < 500;
}

/** Stretches where `mine` and `theirs` disagreed for longer than tolerated. */
function disagreeing(samples: readonly ProbeSample[], theirs: (s: ProbeSample) => boolean | null, who: string): string[] {
  const out: string[] = [];
  let from: ProbeSample | undefined;
  let last: ProbeSample | undefined;
  const close = () => {
    if (from !== undefined && last !== undefined && last.t - from.t >= DISAGREEMENT_TOLERATED_S) {
      const probe = answeredUp(from) ? 'its probe answers' : 'its probe fails';
      out.push(`${from.gateway}: ${probe} while ${who} has it ${theirs(from) ? 'up' : 'down'}, for ${(last.t - from.t).toFixed(1)} s from ${from.t.toFixed(1)} s`);
    }
    from = undefined;
  };
  for (const s of samples) {
    const other = theirs(s);
    if (other === null || other === answeredUp(s)) {
      close();
      continue;
    }
    if (from !== undefined && answeredUp(from) !== answeredUp(s)) close();
    from ??= s;
    last = s;
  }
  close();
  return out;
}

function detailKeys(s: ProbeSample): string {
  return Object.keys(s.composite?.detail ?? {}).sort().join(',');
}

export function summarizeProbes(samples: readonly ProbeSample[]): ProbeSummary {
  const byGateway = new Map<string, ProbeSample[]>();
  for (const s of samples) byGateway.set(s.gateway, [...(byGateway.get(s.gateway) ?? []), s]);
  const gateways: GatewayProbeSummary[] = [];
  const disagreements: string[] = [];
  for (const [gateway, ss] of byGateway) {
    const hist = new LatencyHistogram();
    for (const s of ss) if (s.valid && s.ms !== null) hist.recordMs(s.ms);
    const n = ss.filter((s) => s.valid && s.ms !== null).length;
    const degraded = ss.filter((s) => s.degraded === true);
    const problems = ss.filter((s) => !s.valid);
    const reasons = new Set<string>();
    for (const d of degraded) for (const r of d.composite?.detail?.reasons ?? (d.problem ? [d.problem] : [])) reasons.add(r);
    gateways.push({
      gateway,
      kind: ss[0]!.kind,
      path: ss[0]!.path,
      samples: ss.length,
      answered: n,
      p50Ms: n > 0 ? hist.percentileMs(50) : null,
      p95Ms: n > 0 ? hist.percentileMs(95) : null,
      maxMs: n > 0 ? hist.percentileMs(100) : null,
      degradedSamples: degraded.length,
      firstDegradedAt: degraded[0]?.t ?? null,
      degradedReasons: [...reasons],
      problems: problems.length,
      firstProblem: problems[0]?.problem ?? null,
    });
    disagreements.push(...disagreeing(ss, (s) => s.lbUp, 'the load balancer'), ...disagreeing(ss, (s) => s.promUp, 'Prometheus (clawstorm:gateway_up)'));
  }
  const drift: string[] = [];
  const differ = (what: string, value: (g: string) => string) => {
    const values = new Map<string, string[]>();
    for (const g of byGateway.keys()) {
      const v = value(g);
      if (v === '') continue;
      values.set(v, [...(values.get(v) ?? []), g]);
    }
    if (values.size > 1) drift.push(`${what} differs: ${[...values].map(([v, gs]) => `${gs.join(', ')} → ${v}`).join('; ')}`);
  };
  const valid = (g: string) => byGateway.get(g)!.filter((s) => s.valid);
  differ('probe path', (g) => byGateway.get(g)![0]!.path);
  differ('probe kind', (g) => byGateway.get(g)![0]!.kind);
  differ('schema version', (g) => [...new Set(valid(g).map((s) => s.composite?.detail?.schema_version ?? ''))].filter(Boolean).join('|'));
  differ('detail fields', (g) => [...new Set(valid(g).map(detailKeys))].join(' | '));
  return { gateways, drift, disagreements };
}

export interface ProbeJudging {
  /** Degraded fails the run (the gate); drills inject degraded on purpose and judge it in their hypothesis. */
  degraded: boolean;
}

export function probeThresholds(p: ProbeSummary, opts: ProbeJudging): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  const measured = p.gateways.filter((g) => g.p95Ms !== null);
  const noSamples = 'no probe answered on contract during the run';
  if (measured.length === 0) {
    out.push({ name: `probe P95 < ${PROBE_P95_LIMIT_MS} ms (plan §5)`, source: 'client', expr: `p(95)<${PROBE_P95_LIMIT_MS}ms per gateway`, observed: null, unit: 'ms', verdict: 'no_data', detail: noSamples });
  } else {
    const worst = measured.reduce((a, g) => (g.p95Ms! > a.p95Ms! ? g : a));
    const ok = measured.every((g) => g.p95Ms! < PROBE_P95_LIMIT_MS);
    out.push({
      name: `probe P95 < ${PROBE_P95_LIMIT_MS} ms (plan §5)`,
      source: 'client',
      expr: `p(95)<${PROBE_P95_LIMIT_MS}ms per gateway`,
      observed: worst.p95Ms,
      unit: 'ms',
      verdict: ok ? 'pass' : 'fail',
      detail: measured.map((g) => `${g.gateway} p95 ${g.p95Ms} ms over ${g.answered} samples`).join('; '),
    });
  }
  if (opts.degraded) {
    const degraded = p.gateways.filter((g) => g.degradedSamples > 0);
    const judged = p.gateways.filter((g) => g.answered > 0);
    out.push({
      name: 'no gateway degraded (fails closed)',
      source: 'server',
      expr: 'degraded == false at every probe sample',
      observed: degraded.reduce((a, g) => a + g.degradedSamples, 0),
      unit: 'count',
      verdict: judged.length === 0 ? 'no_data' : degraded.length > 0 ? 'fail' : 'pass',
      detail:
        judged.length === 0
          ? noSamples
          : degraded.length > 0
            ? degraded.map((g) => `${g.gateway} degraded at ${g.firstDegradedAt?.toFixed(1)} s into the run (${g.degradedSamples} of ${g.samples} samples${g.degradedReasons.length ? `: ${g.degradedReasons.join(', ')}` : ''})`).join('; ')
            : `${judged.length} gateway(s), never degraded in ${judged.reduce((a, g) => a + g.answered, 0)} samples`,
    });
  }
  const problems = [...p.drift, ...p.disagreements];
  out.push({
    name: 'probes agree (one path and shape; with the load balancer and Prometheus)',
    source: 'server',
    expr: 'no probe drift',
    observed: problems.length,
    unit: 'count',
    verdict: measured.length === 0 ? 'no_data' : problems.length > 0 ? 'fail' : 'pass',
    detail: measured.length === 0 ? noSamples : problems.length > 0 ? problems.join('; ') : `${p.gateways.length} gateway(s) agree`,
  });
  return out;
}
