// What the autoscaler reads from Prometheus at each sync: the queries that answer "which pods
// exist", "how many replicas is the target asked to run", every metric of the HPA (or every trigger
// of the ScaledObject), and the guardrail signals. One plan feeds both the replay of a run and the
// live controller of a test bed, so the two read the same series the same way.
//
// Metric names map to queries the way a Prometheus adapter would: a Pods metric `M` is
// `sum by (<pod label>) (M)`, a Resource metric (cpu, memory) is the process's CPU rate or resident
// memory per pod; External and Object metrics have no default (their adapter rule is the user's) and
// must be given (`--metric NAME=PROMQL`). KEDA's prometheus triggers carry their own query.
import type { AutoscalerSource } from '../autoscale/controller.ts';
import type { GuardrailConfig } from '../autoscale/guardrails.ts';
import type { HpaSpec, MetricSpec } from '../autoscale/hpa/types.ts';
import { NOMINAL_REQUESTS } from '../testbed/rules.ts';

/** The reference fleet's defaults: one scrape target per gateway in job `gateway`, labelled `gateway`. */
export const BED_DEFAULTS = Object.freeze({
  podsQuery: 'up{job="gateway"}',
  podLabel: 'gateway',
  /** The live autoscaler's own count when it runs, else one replica per scrape target. */
  replicasQuery: 'max(clawstorm_autoscaler_spec_replicas) or count(up{job="gateway"})',
  cpuQuery: 'sum by (gateway) (rate(process_cpu_seconds_total{job="gateway"}[30s]))',
  memoryQuery: 'sum by (gateway) (process_resident_memory_bytes{job="gateway"})',
  degradedQuery: 'openclaw_probe_degraded{job="gateway"}',
  diskRatioQuery: 'openclaw_disk_used_ratio{job="gateway"}',
  diskGateQuery: 'openclaw_disk_gate_ratio{job="gateway"}',
  /** Nominal requests of one gateway (a process has none): Resource utilisation divides by these. */
  requests: NOMINAL_REQUESTS,
});

export type MetricRead =
  /** One value per pod, matched by the pod label (Pods and Resource metrics, cpu/memory triggers). */
  | { kind: 'perPod'; query: string }
  /** One series (an Object metric). */
  | { kind: 'value'; query: string }
  /** Every series (an External metric: the HPA sums them). */
  | { kind: 'values'; query: string }
  /** KEDA's prometheus scaler reads the raw answer itself. */
  | { kind: 'keda'; query: string };

export interface PlannedRead {
  /** The HPA metric key or KEDA trigger key the sample goes under. */
  key: string;
  /** Where the sample goes: SyncInput.metrics (HPA) or SyncInput.triggers (KEDA). */
  into: 'metrics' | 'triggers';
  read: MetricRead;
  /** The per-series expression inside a top-level `avg(…)`: the scrape-gap over-read check. */
  avgInner: string | null;
}

export interface GuardrailOptions extends GuardrailConfig {
  /** A query whose value > 0 means a canary is active (the canary cap needs it). */
  canaryActiveQuery?: string;
}

export interface ObservationPlan {
  podsQuery: string;
  podLabel: string;
  replicasQuery: string;
  reads: PlannedRead[];
  /** Requests every pod is given (cores, bytes), when a Resource metric needs them. */
  requests: { cpu: number; memory: number } | null;
  guardrails: {
    config: GuardrailConfig;
    degradedQuery: string | null;
    diskRatioQuery: string | null;
    diskGateQuery: string | null;
    canaryActiveQuery: string | null;
  };
}

export interface PlanOptions {
  podsQuery?: string;
  podLabel?: string;
  replicasQuery?: string;
  /** By metric name (or key, `external/<name>`); `cpu` and `memory` override the resource queries. */
  metricQueries?: Readonly<Record<string, string>>;
  requests?: { cpu?: number; memory?: number };
  guardrails?: GuardrailOptions;
}

export class PlanError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'PlanError';
    this.problems = problems;
  }
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * The expression inside a top-level `avg(…)` / `avg by () (…)` / `avg without (…) (…)`, or null.
 * That is the adapter pattern whose result over-reads when a pod's scrape is missing: the mean of
 * the series present, where the per-pod value is the sum over every replica.
 */
export function avgInner(query: string): string | null {
  const m = /^\s*avg\s*(?:(?:by|without)\s*\([^()]*\)\s*)?\((.*)\)\s*(?:(?:by|without)\s*\([^()]*\)\s*)?$/s.exec(query);
  if (!m) return null;
  const inner = m[1]!;
  // The parentheses must balance inside: `avg(a) / avg(b)` is not one average.
  let depth = 0;
  for (const ch of inner) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return null;
  }
  return depth === 0 && inner.trim().length > 0 ? inner.trim() : null;
}

function metricName(m: MetricSpec): string {
  return m.type === 'Resource' || m.type === 'ContainerResource' ? m.resource : m.metricName;
}

function resourceQuery(resource: string, given: Readonly<Record<string, string>>): string | undefined {
  if (given[resource] !== undefined) return given[resource];
  if (resource === 'cpu') return BED_DEFAULTS.cpuQuery;
  if (resource === 'memory') return BED_DEFAULTS.memoryQuery;
  return undefined;
}

function readForMetric(m: MetricSpec, podLabel: string, given: Readonly<Record<string, string>>, where: string, problems: string[]): MetricRead | null {
  const explicit = given[m.key] ?? given[metricName(m)];
  switch (m.type) {
    case 'Resource':
    case 'ContainerResource': {
      const q = explicit ?? resourceQuery(m.resource, given);
      if (q === undefined) problems.push(`${where}: resource ${m.resource}: no query for it; give --metric ${m.resource}=PROMQL`);
      return q === undefined ? null : { kind: 'perPod', query: q };
    }
    case 'Pods':
      return { kind: 'perPod', query: explicit ?? `sum by (${podLabel}) (${m.metricName})` };
    case 'Object':
      if (explicit === undefined) problems.push(`${where}: object metric ${m.metricName}: an adapter rule is the user's; give --metric ${m.metricName}=PROMQL`);
      return explicit === undefined ? null : { kind: 'value', query: explicit };
    case 'External':
      if (explicit === undefined) problems.push(`${where}: external metric ${m.metricName}: an adapter rule is the user's; give --metric ${m.metricName}=PROMQL`);
      return explicit === undefined ? null : { kind: 'values', query: explicit };
  }
}

/** The plan for an HPA or a ScaledObject; every problem names the file and the metric. */
export function buildPlan(source: AutoscalerSource, file: string, opts: PlanOptions = {}): ObservationPlan {
  const podLabel = opts.podLabel ?? BED_DEFAULTS.podLabel;
  const problems: string[] = [];
  if (!LABEL.test(podLabel)) problems.push(`--pod-label: ${JSON.stringify(podLabel)} is not a Prometheus label name`);
  const given = opts.metricQueries ?? {};
  const reads: PlannedRead[] = [];
  let needsRequests = false;

  if (source.kind === 'hpa') {
    const hpa: HpaSpec = source.hpa;
    hpa.metrics.forEach((m, i) => {
      const read = readForMetric(m, podLabel, given, `${file}: spec.metrics[${i}]`, problems);
      if (m.type === 'Resource' || m.type === 'ContainerResource') needsRequests ||= m.target.type === 'Utilization';
      if (read) reads.push({ key: m.key, into: 'metrics', read, avgInner: read.kind === 'perPod' ? null : avgInner(read.query) });
    });
  } else {
    const so = source.scaledObject;
    for (const t of so.triggers) {
      const where = `${file}: spec.triggers[${t.index}]`;
      if (t.prometheus !== null) {
        reads.push({ key: t.key, into: 'triggers', read: { kind: 'keda', query: t.prometheus.query }, avgInner: avgInner(t.prometheus.query) });
      } else if (t.resource !== null) {
        const q = resourceQuery(t.resource.name, given);
        if (q === undefined) problems.push(`${where}: ${t.type}: no query for it; give --metric ${t.resource.name}=PROMQL`);
        else reads.push({ key: t.key, into: 'triggers', read: { kind: 'perPod', query: q }, avgInner: null });
        needsRequests ||= t.metricType === 'Utilization';
      }
    }
    // A composite metric is computed by KEDA from the triggers: nothing more to read.
  }
  const known = new Set([...(source.kind === 'hpa' ? source.hpa.metrics.flatMap((m) => [m.key, metricName(m)]) : []), 'cpu', 'memory']);
  for (const name of Object.keys(given)) {
    if (!known.has(name)) problems.push(`--metric ${name}: ${file} has no metric of that name${source.kind === 'keda' ? ' (a ScaledObject\'s prometheus triggers carry their own query)' : ''}`);
  }
  if (problems.length > 0) throw new PlanError(problems);

  const g = opts.guardrails ?? {};
  const requests = needsRequests ? { cpu: opts.requests?.cpu ?? BED_DEFAULTS.requests.cpu, memory: opts.requests?.memory ?? BED_DEFAULTS.requests.memory } : null;
  return {
    podsQuery: opts.podsQuery ?? BED_DEFAULTS.podsQuery,
    podLabel,
    replicasQuery: opts.replicasQuery ?? BED_DEFAULTS.replicasQuery,
    reads,
    requests,
    guardrails: {
      config: { degraded: g.degraded ?? true, degradedWindows: g.degradedWindows ?? 2, disk: g.disk ?? true, canaryMaxReplicas: g.canaryMaxReplicas ?? null },
      degradedQuery: (g.degraded ?? true) ? BED_DEFAULTS.degradedQuery : null,
      diskRatioQuery: (g.disk ?? true) ? BED_DEFAULTS.diskRatioQuery : null,
      diskGateQuery: (g.disk ?? true) ? BED_DEFAULTS.diskGateQuery : null,
      canaryActiveQuery: g.canaryMaxReplicas !== undefined && g.canaryMaxReplicas !== null ? (g.canaryActiveQuery ?? null) : null,
    },
  };
}
