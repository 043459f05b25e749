import { redact } from '../util/redact.ts';
import { LatencyHistogram, type LatencyStats } from './histogram.ts';

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'error';

export interface SampleTags {
  scenario: string;
  step: string;
  /** HTTP method, RPC method or tool name. */
  method: string;
  status_class: StatusClass;
}

export interface Sample {
  tags: SampleTags;
  /** NaN when the failure gave no timing (e.g. a refused connection reported without one). */
  latencyMs: number;
  ok: boolean;
  /** Set when latency was measured from an intended start (open model), performance.now() ms. */
  intendedStart?: number;
}

/** One second of one series, for charts. Percentiles in ms; null when nothing completed. */
export interface SecondBucket {
  t: number;
  count: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /**
   * The second's latency histogram (2 significant digits, encoded), kept only when the sink is
   * asked to (a sharded runner's, so the judge can merge the run's per-second percentiles).
   */
  histogram?: string;
}

/** How the latencies of a group were measured; 'mixed' means both kinds went in. */
export type LatencyFrom = 'intended-start' | 'actual-send' | 'mixed' | 'none';

export interface GroupSummary extends Omit<LatencyStats, 'count'> {
  /** Requests (samples) in the group. */
  count: number;
  errors: number;
  errorRate: number;
  /** What errorRate divides by: failed requests / all requests, never VUs or iterations. */
  errorRateOf: 'requests';
  /** Samples that carried a latency (count minus timing-less failures). */
  latencySamples: number;
  latencyFrom: LatencyFrom;
  /** Samples above one hour, recorded as one hour. */
  clampedSamples: number;
  /** HdrHistogram V2 compressed base64, µs; merge with mergeEncoded(). */
  histogram: string;
}

export interface TagSetSummary extends GroupSummary {
  tags: SampleTags;
}

export interface StepSummary extends GroupSummary {
  scenario: string;
  step: string;
}

export interface IterationCounters {
  /** Iterations that ran to the end without throwing. */
  completed: number;
  /** Iterations whose function threw. */
  failed: number;
  /** Iterations cut short by abort or by the end of gracefulStop. */
  interrupted: number;
  /** Starts an open-model executor could not make because every VU was busy. */
  dropped: number;
}

export interface ScenarioSummary extends GroupSummary, IterationCounters {
  scenario: string;
  /** Distinct iteration and VU-setup error messages (secrets redacted), capped. */
  errorMessages: Array<{ message: string; count: number }>;
}

export interface SinkSummary {
  totals: IterationCounters & {
    requests: number;
    errors: number;
    errorRate: number;
    errorRateOf: 'requests';
  };
  scenarios: ScenarioSummary[];
  steps: StepSummary[];
  tagSets: TagSetSummary[];
}

export interface ScenarioProgress {
  requests: number;
  errors: number;
  /** p95 of the last completed second (ms); null before the first one. */
  p95Ms: number | null;
  dropped: number;
}

export function statusClassOf(status: number | undefined | null): StatusClass {
  if (status === undefined || status === null || status < 100) return 'error';
  if (status < 300) return '2xx';
  if (status < 400) return '3xx';
  if (status < 500) return '4xx';
  if (status < 600) return '5xx';
  return 'error';
}

const MAX_ERROR_MESSAGES = 20;
// Never let a credential reach a report through an error message: registered secrets first, then
// anything shaped like one.
export function redactMessage(message: string): string {
  return redact(message)
    .replace(/(bearer\s+)[^\s"',;]+/gi, '$1[redacted]')
    .replace(/((?:token|authorization|api[-_]?key|secret|password)["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, '$1[redacted]')
    .slice(0, 300);
}

/**
 * The samples of one tag set: the only full-resolution histogram a sample goes into. Steps and
 * scenarios are summed from their tag sets when a summary is asked for (merging HDR histograms of
 * one layout is exact), so a sample costs one 3-digit record here instead of three.
 */
class TagSet {
  readonly tags: SampleTags;
  readonly hist = new LatencyHistogram();
  count = 0;
  errors = 0;
  /** Samples with a latency measured from an intended start (open model). */
  corrected = 0;

  constructor(tags: SampleTags) {
    this.tags = tags;
  }

  add(latencyMs: number, ok: boolean, fromIntendedStart: boolean): void {
    this.count += 1;
    if (!ok) this.errors += 1;
    if (Number.isFinite(latencyMs)) {
      this.hist.recordMs(latencyMs);
      if (fromIntendedStart) this.corrected += 1;
    }
  }
}

/** One summary over tag sets (one of them, a step's, or a scenario's). */
function summariseTagSets(sets: readonly TagSet[]): GroupSummary {
  let hist: LatencyHistogram;
  if (sets.length === 1) hist = (sets[0] as TagSet).hist;
  else {
    hist = new LatencyHistogram();
    for (const t of sets) hist.merge(t.hist);
  }
  let count = 0;
  let errors = 0;
  let corrected = 0;
  for (const t of sets) {
    count += t.count;
    errors += t.errors;
    corrected += t.corrected;
  }
  const st = hist.stats();
  const n = st.count;
  const latencyFrom: LatencyFrom = n === 0 ? 'none' : corrected === n ? 'intended-start' : corrected === 0 ? 'actual-send' : 'mixed';
  return {
    count,
    errors,
    errorRate: count === 0 ? 0 : errors / count,
    errorRateOf: 'requests',
    latencySamples: n,
    minMs: st.minMs,
    p50Ms: st.p50Ms,
    p90Ms: st.p90Ms,
    p95Ms: st.p95Ms,
    p99Ms: st.p99Ms,
    maxMs: st.maxMs,
    meanMs: st.meanMs,
    latencyFrom,
    clampedSamples: hist.clamped,
    histogram: hist.encode(),
  };
}

const GAP_FILL_CAP = 86_400;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Per-second series. Only the current second has a (small, 2-digit) histogram; finished seconds
 * are kept as seven numbers in flat arrays, so a 12-hour run costs a few MB, not raw samples.
 */
class SecondSeries {
  /** Keep each closed second's histogram (encoded), not only its percentiles. */
  private readonly keep: boolean;
  private readonly hists: Array<string | undefined> = [];
  private cur = -1;
  private readonly hist = new LatencyHistogram({ significantDigits: 2 });
  private curCount = 0;
  private curErrors = 0;
  private readonly t: number[] = [];
  private readonly count: number[] = [];
  private readonly errors: number[] = [];
  private readonly p50: number[] = [];
  private readonly p95: number[] = [];
  private readonly p99: number[] = [];
  private readonly max: number[] = [];

  constructor(keepHistograms = false) {
    this.keep = keepHistograms;
  }

  /** Move to second `sec`, closing the current one (and zero-filling silent seconds). */
  roll(sec: number): void {
    if (this.cur < 0) {
      this.cur = sec;
      return;
    }
    if (sec <= this.cur) return; // a wall-clock step backwards lands in the current second
    this.close();
    const gap = Math.min(sec - this.cur - 1, GAP_FILL_CAP);
    for (let i = 1; i <= gap; i++) {
      this.push(this.cur + i, 0, 0, NaN, NaN, NaN, NaN);
      if (this.keep) this.hists.push(undefined);
    }
    this.cur = sec;
  }

  add(sec: number, latencyMs: number, ok: boolean): void {
    if (sec !== this.cur) this.roll(sec);
    this.curCount += 1;
    if (!ok) this.curErrors += 1;
    if (Number.isFinite(latencyMs)) this.hist.recordMs(latencyMs);
  }

  private close(): void {
    const h = this.hist;
    const has = h.count > 0;
    this.push(
      this.cur,
      this.curCount,
      this.curErrors,
      has ? h.percentileMs(50) : NaN,
      has ? h.percentileMs(95) : NaN,
      has ? h.percentileMs(99) : NaN,
      has ? h.maxMs : NaN,
    );
    if (this.keep) this.hists.push(has ? h.encode() : undefined);
    h.reset();
    this.curCount = 0;
    this.curErrors = 0;
  }

  private push(t: number, c: number, e: number, p50: number, p95: number, p99: number, max: number): void {
    this.t.push(t);
    this.count.push(c);
    this.errors.push(e);
    this.p50.push(p50);
    this.p95.push(p95);
    this.p99.push(p99);
    this.max.push(max);
  }

  lastP95(): number | null {
    const n = this.p95.length;
    if (n === 0) return null;
    const v = this.p95[n - 1] as number;
    return Number.isNaN(v) ? null : r3(v);
  }

  /** Closed seconds, plus the open one when `includeCurrent` (it is still filling). */
  buckets(includeCurrent: boolean): SecondBucket[] {
    const out: SecondBucket[] = [];
    const nn = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : r3(v));
    for (let i = 0; i < this.t.length; i++) {
      out.push({
        t: this.t[i] as number,
        count: this.count[i] as number,
        errors: this.errors[i] as number,
        p50: nn(this.p50[i]),
        p95: nn(this.p95[i]),
        p99: nn(this.p99[i]),
        max: nn(this.max[i]),
        ...(this.hists[i] !== undefined ? { histogram: this.hists[i] } : {}),
      });
    }
    if (includeCurrent && this.cur >= 0 && this.curCount > 0) {
      const h = this.hist;
      const has = h.count > 0;
      out.push({
        t: this.cur,
        count: this.curCount,
        errors: this.curErrors,
        p50: has ? r3(h.percentileMs(50)) : null,
        p95: has ? r3(h.percentileMs(95)) : null,
        p99: has ? r3(h.percentileMs(99)) : null,
        max: has ? r3(h.maxMs) : null,
        ...(this.keep && has ? { histogram: h.encode() } : {}),
      });
    }
    return out;
  }
}

const STATUS_INDEX: Readonly<Record<StatusClass, number>> = { '2xx': 0, '3xx': 1, '4xx': 2, '5xx': 3, error: 4 };

/** A step's tag sets by method tag, then by status class (STATUS_INDEX). */
type StepTagSets = Map<string, Array<TagSet | undefined>>;

interface StepState {
  scenario: string;
  step: string;
  byMethod: StepTagSets;
  /** Every tag set of the step, in first-seen order. */
  sets: TagSet[];
}

interface ScenarioState {
  steps: Map<string, StepState>;
  sets: TagSet[];
  /** Request and error counts, for the progress line. */
  count: number;
  errors: number;
  series: SecondSeries;
  iters: IterationCounters;
  errorMessages: Map<string, number>;
}

export interface SampleSinkOptions {
  /** Wall clock for bucketing, unix ms. */
  now?: () => number;
  /** Keep every second's histogram in each scenario's series (see SecondBucket.histogram). */
  secondHistograms?: boolean;
}

/** Where every driver records. Histograms and counters only: memory does not grow with samples. */
export class SampleSink {
  private readonly now: () => number;
  /** In first-seen order, across scenarios. */
  private readonly tagSets: TagSet[] = [];
  private readonly steps: StepState[] = [];
  private readonly scenarios = new Map<string, ScenarioState>();
  private readonly all = new SecondSeries();

  private readonly secondHistograms: boolean;

  constructor(opts: SampleSinkOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.secondHistograms = opts.secondHistograms === true;
  }

  record(s: Sample): void {
    const t = s.tags;
    this.recordTagged(t.scenario, t.step, t.method, t.status_class, s.latencyMs, s.ok, s.intendedStart !== undefined);
  }

  /**
   * record() without building a Sample: what drivers call once per response. Finds the tag set
   * through nested maps (no key string built per sample) and records into three histograms: the
   * tag set's, and the current second of the scenario's and of the whole run's series.
   */
  recordTagged(scenario: string, step: string, method: string, statusClass: StatusClass, latencyMs: number, ok: boolean, fromIntendedStart: boolean): void {
    const sc = this.scenario(scenario);
    let st = sc.steps.get(step);
    if (st === undefined) {
      st = { scenario, step, byMethod: new Map(), sets: [] };
      sc.steps.set(step, st);
      this.steps.push(st);
    }
    let slots = st.byMethod.get(method);
    if (slots === undefined) {
      slots = [undefined, undefined, undefined, undefined, undefined];
      st.byMethod.set(method, slots);
    }
    const i = STATUS_INDEX[statusClass];
    let ts = slots[i];
    if (ts === undefined) {
      ts = new TagSet({ scenario, step, method, status_class: statusClass });
      slots[i] = ts;
      st.sets.push(ts);
      sc.sets.push(ts);
      this.tagSets.push(ts);
    }
    ts.add(latencyMs, ok, fromIntendedStart);
    sc.count += 1;
    if (!ok) sc.errors += 1;
    const sec = Math.floor(this.now() / 1000);
    sc.series.add(sec, latencyMs, ok);
    this.all.add(sec, latencyMs, ok);
  }

  iterationEnded(scenario: string, outcome: 'completed' | 'failed' | 'interrupted', error?: unknown): void {
    const sc = this.scenario(scenario);
    sc.iters[outcome] += 1;
    if (outcome === 'failed' && error !== undefined) this.noteError(scenario, 'iteration', error);
  }

  /** Keep an error message that is not an iteration's (a failed VU setup), redacted and capped. */
  noteError(scenario: string, where: string, error: unknown): void {
    const sc = this.scenario(scenario);
    const msg = redactMessage(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    const prev = sc.errorMessages.get(msg);
    if (prev !== undefined) sc.errorMessages.set(msg, prev + 1);
    else if (sc.errorMessages.size < MAX_ERROR_MESSAGES) sc.errorMessages.set(msg, 1);
  }

  droppedIteration(scenario: string, n = 1): void {
    this.scenario(scenario).iters.dropped += n;
  }

  /** Close finished seconds even when nothing arrives (the engine calls this about once a second). */
  tick(): void {
    const sec = Math.floor(this.now() / 1000);
    this.all.roll(sec);
    for (const sc of this.scenarios.values()) sc.series.roll(sec);
  }

  /** Per-second series: all scenarios together, or one. */
  buckets(scenario?: string, includeCurrent = true): SecondBucket[] {
    if (scenario === undefined) return this.all.buckets(includeCurrent);
    return this.scenarios.get(scenario)?.series.buckets(includeCurrent) ?? [];
  }

  progress(scenario: string): ScenarioProgress {
    const sc = this.scenarios.get(scenario);
    if (sc === undefined) return { requests: 0, errors: 0, p95Ms: null, dropped: 0 };
    return { requests: sc.count, errors: sc.errors, p95Ms: sc.series.lastP95(), dropped: sc.iters.dropped };
  }

  scenarioNames(): string[] {
    return [...this.scenarios.keys()];
  }

  summary(): SinkSummary {
    const totals = { requests: 0, errors: 0, errorRate: 0, errorRateOf: 'requests' as const, completed: 0, failed: 0, interrupted: 0, dropped: 0 };
    const scenarios: ScenarioSummary[] = [];
    for (const [scenario, sc] of this.scenarios) {
      scenarios.push({
        scenario,
        ...summariseTagSets(sc.sets),
        ...sc.iters,
        errorMessages: [...sc.errorMessages].map(([message, count]) => ({ message, count })),
      });
      totals.requests += sc.count;
      totals.errors += sc.errors;
      totals.completed += sc.iters.completed;
      totals.failed += sc.iters.failed;
      totals.interrupted += sc.iters.interrupted;
      totals.dropped += sc.iters.dropped;
    }
    totals.errorRate = totals.requests === 0 ? 0 : totals.errors / totals.requests;
    const steps = this.steps.map((s) => ({ scenario: s.scenario, step: s.step, ...summariseTagSets(s.sets) }));
    const tagSets = this.tagSets.map((t) => ({ tags: { ...t.tags }, ...summariseTagSets([t]) }));
    return { totals, scenarios, steps, tagSets };
  }

  private scenario(name: string): ScenarioState {
    let sc = this.scenarios.get(name);
    if (sc === undefined) {
      sc = {
        steps: new Map(),
        sets: [],
        count: 0,
        errors: 0,
        series: new SecondSeries(this.secondHistograms),
        iters: { completed: 0, failed: 0, interrupted: 0, dropped: 0 },
        errorMessages: new Map(),
      };
      this.scenarios.set(name, sc);
    }
    return sc;
  }
}
