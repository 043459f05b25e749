// The steady-state hypothesis: probes checked before the faults (once), continuously during them
// (every interval; a probe deviates after more than `tolerance` failing checks in a row) and after
// the rollbacks (polled until it holds, within a deadline). Each probe's phase is a Track
// (src/score/track.ts), so a check that measured nothing is an Error measurement: it never passes
// a probe, five in a row end it in no data, and a probe whose checks were mostly no data is
// inconclusive. Each probe and phase becomes one threshold result in the report.
import { showServersState } from '../lb/runtime.ts';
import type { SecondBucket } from '../load/samples.ts';
import { parseThresholdExpr } from '../config/threshold-expr.ts';
import { evaluateClientThreshold, type MetricSummary } from '../score/threshold.ts';
import { Track, phaseOf, verdictOfPhase, type TrackSpec } from '../score/track.ts';
import type { CompareOp } from '../config/common.ts';
import { compare, worse, type ThresholdResult, type ThresholdSource } from '../score/types.ts';
import type { DrillLoad } from './load.ts';
import type { Phase, Probe } from './schema.ts';
import { PROBE_TIMEOUT_MS, readProbe } from '../probe/fetch.ts';
import type { ChaosTarget } from '../target/target.ts';
import { PromError } from '../prom/client.ts';
import { promErrorReason, valuesOf } from '../prom/read.ts';

export interface Check {
  /** true pass, false fail, null no data. */
  ok: boolean | null;
  observed: number | null;
  detail: string;
}


/** Summary of the last `windowMs` of per-second buckets (the current second included). */
export function windowSummary(buckets: readonly SecondBucket[], windowMs: number, nowMs = Date.now()): MetricSummary & { errors: number } {
  const from = Math.floor((nowMs - windowMs) / 1000);
  const inWin = buckets.filter((b) => b.t >= from);
  const count = inWin.reduce((a, b) => a + b.count, 0);
  const errors = inWin.reduce((a, b) => a + b.errors, 0);
  const maxOf = (k: 'p50' | 'p95' | 'p99' | 'max') => {
    const vs = inWin.map((b) => b[k]).filter((v): v is number => v !== null);
    return vs.length === 0 ? undefined : Math.max(...vs);
  };
  return {
    samples: count,
    count: errors,
    errors,
    rate: count > 0 ? errors / count : 0,
    max: maxOf('max'),
    // Per-second percentiles cannot be merged exactly; the window takes its worst second, the
    // conservative reading (a bad second is never averaged away).
    percentile: (p) => (p <= 50 ? maxOf('p50') : p <= 95 ? maxOf('p95') : p <= 99 ? maxOf('p99') : maxOf('max')),
  };
}

async function checkClient(p: Extract<Probe, { client: unknown }>, load: DrillLoad | undefined): Promise<Check> {
  if (load === undefined) return { ok: null, observed: null, detail: 'the drill runs no load' };
  const c = p.client;
  const buckets = load.buckets(c.scenario);
  const s = windowSummary(buckets, c.window);
  let summary: MetricSummary;
  if (c.metric === 'status') {
    const nowSec = Math.floor(Date.now() / 1000);
    const n = load.statuses.count(c.status ?? 0, c.scenario, nowSec - Math.ceil(c.window / 1000), nowSec);
    summary = { samples: s.samples, count: n };
  } else if (c.metric === 'errors') {
    summary = { samples: s.samples, count: s.errors, rate: s.rate ?? 0 };
  } else {
    summary = s;
  }
  const r = evaluateClientThreshold({ name: p.name, metric: c.metric, expr: c.expr }, summary);
  return { ok: r.verdict === 'no_data' ? null : r.verdict === 'pass', observed: r.observed, detail: r.detail };
}

async function checkPromql(p: Extract<Probe, { promql: unknown }>, t: ChaosTarget): Promise<Check> {
  if (t.prom === undefined) return { ok: null, observed: null, detail: 'no Prometheus for this target' };
  const q = p.promql;
  try {
    // Every series must be a measurement: one NaN gateway among healthy ones is not a pass.
    const read = valuesOf(await t.prom.instant(q.query), q.query);
    if (!read.ok) return { ok: null, observed: null, detail: read.reason };
    const measured = read.values;
    let w = measured[0]!;
    for (const v of measured) w = worse(w, v, q.op, q.value);
    const ok = measured.every((v) => compare(v, q.op, q.value));
    return { ok, observed: w, detail: `${ok ? 'worst' : 'observed'} ${w} ${ok ? 'meets' : 'violates'} ${q.op} ${q.value}` };
  } catch (err) {
    return { ok: null, observed: null, detail: err instanceof PromError ? promErrorReason(err) : `Prometheus: ${(err as Error).message}` };
  }
}


async function checkCompositeProbe(p: Extract<Probe, { probe: unknown }>, t: ChaosTarget): Promise<Check> {
  const r = await readProbe(t, p.probe.gateway, PROBE_TIMEOUT_MS);
  const g = r.gateway;
  if (r.kind === 'readyz') {
    // /readyz tells `degraded` and nothing else: other expectations cannot be observed there.
    const unseen = (Object.keys(p.probe.expect) as Array<keyof typeof p.probe.expect>).filter((k) => k !== 'degraded' && p.probe.expect[k] !== undefined);
    if (unseen.length > 0) return { ok: null, observed: null, detail: `${g}: ${r.path} does not tell ${unseen.join(', ')}` };
  }
  if (r.status === null) return { ok: false, observed: 0, detail: `${g} ${r.kind === 'readyz' ? r.path : 'composite probe'} ${r.problem ?? 'did not answer'}` };
  if (!r.valid) return { ok: false, observed: 0, detail: `${g} ${r.kind === 'readyz' ? r.path : 'composite probe'} ${r.problem ?? 'off contract'}` };
  if (r.kind === 'readyz') {
    const want = p.probe.expect.degraded;
    const ok = want === undefined || want === r.degraded;
    return { ok, observed: ok ? 1 : 0, detail: `${g}: ready ${r.ready} (HTTP ${r.status}${r.problem ? `, ${r.problem}` : ''})` };
  }
  const c = r.composite!;
  const want = p.probe.expect;
  const got = { status: c.status, degraded: c.degraded, disk_ok: c.gateway.disk_ok };
  const off = (Object.keys(want) as Array<keyof typeof want>).filter((k) => want[k] !== undefined && want[k] !== got[k]);
  return off.length === 0
    ? { ok: true, observed: 1, detail: `${g}: ${JSON.stringify(got)}` }
    : { ok: false, observed: 0, detail: `${g}: ${off.map((k) => `${k} ${String(got[k])} (want ${String(want[k])})`).join(', ')}` };
}

async function checkLb(p: Extract<Probe, { lb: unknown }>, t: ChaosTarget): Promise<Check> {
  if (t.haproxy === undefined) return { ok: null, observed: null, detail: 'no load balancer runtime API for this target' };
  try {
    const s = (await showServersState(t.haproxy)).find((x) => x.name === p.lb.server);
    if (s === undefined) return { ok: false, observed: 0, detail: `no server ${p.lb.server}` };
    const up = s.opState === 'UP';
    return { ok: up === p.lb.up, observed: up ? 1 : 0, detail: `${s.name} ${s.status} (check ${s.checkStatus}, admin ${s.adminState})` };
  } catch (err) {
    return { ok: null, observed: null, detail: `haproxy: ${(err as Error).message}` };
  }
}

export async function checkProbe(p: Probe, t: ChaosTarget, load: DrillLoad | undefined): Promise<Check> {
  const run = (): Promise<Check> => {
    if ('client' in p) return checkClient(p, load);
    if ('promql' in p) return checkPromql(p, t);
    if ('probe' in p) return checkCompositeProbe(p, t);
    return checkLb(p, t);
  };
  try {
    return await run();
  } catch (err) {
    return { ok: null, observed: null, detail: (err as Error).message };
  }
}

function sourceOf(p: Probe): ThresholdSource {
  return 'promql' in p ? 'promql' : 'client' in p ? 'client' : 'server';
}

function exprOf(p: Probe): string {
  if ('client' in p) return `${p.client.metric}${p.client.status !== undefined ? `:${p.client.status}` : ''} ${p.client.expr} over ${p.client.window / 1000}s`;
  if ('promql' in p) return `${p.promql.query} ${p.promql.op} ${p.promql.value}`;
  if ('probe' in p) return `${p.probe.gateway} probe ${JSON.stringify(p.probe.expect)}`;
  return `${p.lb.server} ${p.lb.up ? 'UP' : 'not UP'} in the load balancer`;
}

function unitOf(p: Probe): string | undefined {
  if (!('client' in p)) return undefined;
  if (p.client.metric === 'latency') return 'ms';
  const agg = parseThresholdExpr(p.client.expr).aggregation.kind;
  return agg === 'rate' ? 'ratio' : 'count';
}

/** More than half of a probe's checks measuring nothing makes it inconclusive, not met. */
const MAX_ERROR_SHARE = 0.5;
/** Before the faults: one check, retried twice when it measured nothing. */
const BEFORE_ERROR_RETRIES = 2;

export interface HypothesisTiming {
  interval: number;
  afterTimeout: number;
}

/** How a probe is judged in each phase, as a track. */
export function probeTrackSpec(p: Probe, phase: Phase, h: HypothesisTiming): TrackSpec {
  const name = `${p.name} (${phase})`;
  switch (phase) {
    case 'before':
      return { name, count: 1, consecutiveErrorLimit: BEFORE_ERROR_RETRIES, errorRetryMs: h.interval };
    case 'during':
      return { name, intervalMs: h.interval, failureLimit: -1, consecutiveFailureLimit: p.tolerance, maxErrorShare: MAX_ERROR_SHARE };
    case 'after':
      // Polled until it holds: the first successful check ends it; the deadline fails it.
      return { name, intervalMs: h.interval, count: Math.ceil(h.afterTimeout / h.interval) + 1, consecutiveSuccessLimit: 1, failureLimit: -1, maxErrorShare: MAX_ERROR_SHARE };
  }
}

export interface ProbeTrack {
  probe: Probe;
  phase: Phase;
  track: Track;
}

export function tracksFor(probes: readonly Probe[], phase: Phase, h: HypothesisTiming, startedAt = Date.now()): ProbeTrack[] {
  return probes.filter((p) => p.phases.includes(phase)).map((p) => ({ probe: p, phase, track: new Track(probeTrackSpec(p, phase, h), startedAt) }));
}

/** The measure function of a probe's track. */
export function probeMeasure(p: Probe, t: ChaosTarget, load: DrillLoad | undefined) {
  return async () => {
    const c = await checkProbe(p, t, load);
    return { phase: phaseOf(c.ok), value: c.observed, detail: c.detail };
  };
}

function opValue(p: Probe): { op: CompareOp; value: number } {
  if ('promql' in p) return { op: p.promql.op, value: p.promql.value };
  if ('client' in p) {
    const e = parseThresholdExpr(p.client.expr);
    return { op: e.op, value: e.value };
  }
  return { op: '==', value: 1 };
}

/** A probe track as one threshold result: its verdict, the worst value it saw, and why. */
export function probeResult(pt: ProbeTrack): ThresholdResult {
  const { probe, phase, track } = pt;
  const { op, value } = opValue(probe);
  let worst: number | null = null;
  let worstDetail = '';
  for (const m of track.measurements) {
    if (typeof m.value !== 'number') continue;
    const w: number = worst === null ? m.value : worse(worst, m.value, op, value);
    if (w !== worst || worstDetail === '') worstDetail = m.detail;
    worst = w;
  }
  const c = track.counters;
  const verdict = verdictOfPhase(track.phase);
  let detail: string;
  if (phase === 'during') {
    const tally = `${c.failed}/${c.count} checks failed${c.error ? `, ${c.error} measured nothing` : ''}, tolerance ${probe.tolerance} in a row`;
    detail = verdict === 'pass' ? `held: ${tally}; worst: ${worstDetail || track.message}` : `${track.message} (${tally})`;
  } else {
    detail = `${verdict === 'pass' ? 'held' : verdict === 'fail' ? 'did not hold' : 'not established'}: ${track.message}`;
  }
  const r: ThresholdResult = { name: track.spec.name, source: sourceOf(probe), expr: exprOf(probe), observed: worst, verdict, detail };
  const unit = unitOf(probe);
  if (unit !== undefined) r.unit = unit;
  return r;
}
