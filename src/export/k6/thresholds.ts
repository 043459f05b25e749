// A scenario's client thresholds as k6 thresholds, where k6 can say the same thing, and the list of
// what it cannot. What k6 cannot express stays with the central judge — as do the PromQL
// thresholds, the figures and the verifications, which are never k6's.
//
// k6 selects samples with one metric and one value per tag (`http_req_duration{scenario:x,step:y}`),
// so a ClawStorm selection maps only when some conjunction of step / kind / call tags picks exactly
// the samples ClawStorm would judge.
import { sampleStepNames, type ScenarioClientThreshold, type ScenarioFile } from '../../config/scenario.ts';
import { parseThresholdExpr, type ThresholdExpr } from '../../config/threshold-expr.ts';
import { WS_METRICS } from './runtime.ts';

export interface NotExpressed {
  name: string;
  why: string;
}

export interface ThresholdMapping {
  /** k6's `options.thresholds`. */
  thresholds: Record<string, string[]>;
  /** ClawStorm threshold name → the k6 key and expression it became. */
  mapped: Array<{ name: string; metric: string; expr: string }>;
  notExpressed: NotExpressed[];
  /** Which kinds of samples the scenario makes: HTTP requests, WebSocket samples. */
  families: ReadonlySet<'http' | 'ws'>;
}

type Family = 'http' | 'ws';

interface SampleStep {
  name: string;
  kind: 'read' | 'write';
  family: Family;
  /** The `call` tag values its samples carry. */
  calls: string[];
}

const METRICS: Record<Family, { duration: string; failed: string }> = {
  http: { duration: 'http_req_duration', failed: 'http_req_failed' },
  ws: { duration: WS_METRICS.duration, failed: WS_METRICS.failed },
};

/** The `call` tag of a tool or HTTP step: the tool, or `METHOD /path` without the query. */
export function httpCallTag(step: { tool: string } | { http: { method: string; path: string } }): string {
  return 'tool' in step ? step.tool : `${step.http.method} ${step.http.path.split('?')[0]}`;
}

export function sampleSteps(s: ScenarioFile): SampleStep[] {
  const out: SampleStep[] = [];
  for (const j of s.journeys) {
    for (const st of j.steps) {
      if ('ws' in st) {
        const [connect, rpc, close] = sampleStepNames(st) as [string, string, string];
        out.push({ name: connect, kind: st.kind, family: 'ws', calls: ['connect'] });
        out.push({ name: rpc, kind: st.kind, family: 'ws', calls: st.ws.calls.map((c) => c.method) });
        out.push({ name: close, kind: st.kind, family: 'ws', calls: ['close'] });
      } else {
        out.push({ name: st.name, kind: st.kind, family: 'http', calls: [httpCallTag(st)] });
      }
    }
  }
  return out;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** Tag filters (without scenario) that pick exactly `chosen` among the family's steps, or why none do. */
function stepFilter(chosen: SampleStep[], family: SampleStep[]): string[] | string {
  const names = chosen.map((c) => c.name);
  if (sameSet(names, family.map((f) => f.name))) return [];
  for (const kind of ['read', 'write'] as const) {
    if (sameSet(names, family.filter((f) => f.kind === kind).map((f) => f.name))) return [`kind:${kind}`];
  }
  if (chosen.length === 1) return [`step:${names[0]}`];
  return `it selects ${names.length} steps (${names.join(', ')}) and a k6 threshold selects one value per tag`;
}

function callFilter(methods: readonly string[] | undefined, chosen: SampleStep[]): string[] | string {
  if (methods === undefined) return [];
  const possible = [...new Set(chosen.flatMap((c) => c.calls))];
  const wanted = possible.filter((c) => methods.includes(c));
  if (wanted.length === 0) return `it selects calls (${methods.join(', ')}) that none of its steps makes`;
  if (sameSet(wanted, possible)) return [];
  if (wanted.length === 1) return [`call:${wanted[0]}`];
  return `it selects ${wanted.length} calls (${wanted.join(', ')}) and a k6 threshold selects one value per tag`;
}

/** k6's spelling of one expression on a Trend of milliseconds, a Rate or a Counter, or why it has none. */
function k6Expr(metric: 'latency' | 'errors' | 'dropped', e: ThresholdExpr): string | { why: string } {
  const a = e.aggregation;
  if (metric === 'latency') {
    if (a.kind === 'count' || a.kind === 'rate') return { why: `k6 trends have no ${a.kind} to compare` };
    const agg = a.kind === 'p' ? `p(${a.p})` : a.kind;
    return `${agg}${e.op}${e.value}`;
  }
  if (metric === 'errors') {
    if (a.kind === 'rate') return `rate${e.op}${e.value}`;
    // Failed requests are a k6 Rate: "no failure" is a rate of 0; other counts need the total.
    if (a.kind === 'count' && ((e.op === '==' && e.value === 0) || (e.op === '<=' && e.value === 0) || (e.op === '<' && e.value === 1))) return 'rate==0';
    return { why: `k6 keeps failed requests as a rate; ${e.source} needs the count of requests` };
  }
  if (a.kind === 'count') return `count${e.op}${e.value}`;
  return { why: `k6 counts dropped iterations, it has no ${a.kind} of them to compare` };
}

/** Characters a tag value must not hold inside k6's `metric{tag:value,…}`. */
const UNSAFE_TAG_VALUE = /[,{}]/;

function mapOne(s: ScenarioFile, t: ScenarioClientThreshold, steps: SampleStep[]): { metric: string; expr: string } | { why: string } {
  if (t.metric.startsWith('figure:')) return { why: `${t.metric.slice('figure:'.length)} is a figure ClawStorm computes after the run (${s.verify.length > 0 ? 'verification' : 'from Prometheus'}), not a k6 metric` };
  const metric = t.metric as 'latency' | 'errors' | 'dropped';
  const e = parseThresholdExpr(t.expr);
  const scenario = `scenario:${s.name}`;
  if (metric === 'dropped') {
    const expr = k6Expr(metric, e);
    if (typeof expr !== 'string') return expr;
    if (t.select.steps !== undefined || t.select.kind !== undefined || t.select.methods !== undefined) return { why: 'dropped iterations belong to the scenario, not to steps' };
    return { metric: `dropped_iterations{${scenario}}`, expr };
  }
  const { steps: names, kind, methods } = t.select;
  const chosen = steps.filter((st) => (names === undefined || names.includes(st.name)) && (kind === undefined || st.kind === kind));
  if (chosen.length === 0) return { why: 'it selects no samples of this scenario' };
  const families = [...new Set(chosen.map((c) => c.family))];
  if (families.length > 1) return { why: 'it mixes HTTP requests and WebSocket samples, which k6 keeps in different metrics' };
  const family = families[0] as Family;
  const byStep = stepFilter(chosen, steps.filter((st) => st.family === family));
  if (typeof byStep === 'string') return { why: byStep };
  const byCall = callFilter(methods, chosen);
  if (typeof byCall === 'string') return { why: byCall };
  const filters = [scenario, ...byStep, ...byCall];
  const bad = filters.find((f) => UNSAFE_TAG_VALUE.test(f));
  if (bad !== undefined) return { why: `the tag value in ${bad} holds a character k6 cannot select on` };
  const expr = k6Expr(metric, e);
  if (typeof expr !== 'string') return expr;
  const m = metric === 'latency' ? METRICS[family].duration : METRICS[family].failed;
  return { metric: `${m}{${filters.join(',')}}`, expr };
}

export function mapThresholds(s: ScenarioFile): ThresholdMapping {
  const steps = sampleSteps(s);
  const thresholds: Record<string, string[]> = {};
  const mapped: ThresholdMapping['mapped'] = [];
  const notExpressed: NotExpressed[] = [];
  for (const t of s.thresholds) {
    const r = mapOne(s, t, steps);
    if ('why' in r) {
      notExpressed.push({ name: t.name, why: r.why });
      continue;
    }
    const list = (thresholds[r.metric] ??= []);
    if (!list.includes(r.expr)) list.push(r.expr);
    mapped.push({ name: t.name, metric: r.metric, expr: r.expr });
  }
  return { thresholds, mapped, notExpressed, families: new Set(steps.map((st) => st.family)) };
}
