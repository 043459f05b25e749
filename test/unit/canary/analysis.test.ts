// Argo Rollouts analysis semantics, from its documentation and code (EvaluateResult, the
// prometheus provider's typing, the metric limits and the run phase), through ClawStorm's
// template reader and analysis run.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTemplate, loadTemplateFile, parseTemplates, substituteArgs, AnalysisTemplateError } from '../../../src/canary/analysis-template.ts';
import { evaluateResult, runAnalysis, typeResult, type ProviderResult } from '../../../src/canary/analysis.ts';
import type { MeasurementPhase } from '../../../src/score/track.ts';
import { compileExpr } from '../../../src/expr/index.ts';

function fakeClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) return false;
      t += ms;
      return true;
    },
  };
}

const cond = (s?: string) => (s === undefined ? undefined : compileExpr(s));
const phase = (result: ProviderResult, success?: string, failure?: string): MeasurementPhase =>
  evaluateResult({ successCondition: cond(success), failureCondition: cond(failure) }, result).phase;

function template(metrics: unknown[], extra: Record<string, unknown> = {}) {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: 't' }, spec: { metrics, ...extra } };
}
const prom = (query = 'up') => ({ prometheus: { address: 'http://p:9090', query } });

describe('EvaluateResult (one measurement → phase)', () => {
  it('neither condition set → Successful (the code; the docs say Inconclusive)', () => {
    expect(phase(0.1)).toBe('Successful');
    expect(phase([])).toBe('Successful');
  });
  it('only a success condition: false → Failed', () => {
    expect(phase(0.8, 'result >= 0.9')).toBe('Failed');
    expect(phase(0.95, 'result >= 0.9')).toBe('Successful');
  });
  it('only a failure condition: false → Successful', () => {
    expect(phase(0.95, undefined, 'result < 0.9')).toBe('Successful');
    expect(phase(0.8, undefined, 'result < 0.9')).toBe('Failed');
  });
  it('both true → Failed (failure wins)', () => {
    expect(phase(1, 'result > 0', 'result > 0')).toBe('Failed');
  });
  it('NaN: both conditions set → Inconclusive; only success → Failed; isNaN accepts it; +Inf passes >=', () => {
    expect(phase(NaN, 'result >= 0.9', 'result < 0.9')).toBe('Inconclusive');
    expect(phase(NaN, 'result >= 0.9')).toBe('Failed');
    expect(phase(NaN, 'result >= 0.9 || isNaN(result)')).toBe('Successful');
    expect(phase(Infinity, 'result >= 0.9')).toBe('Successful');
    expect(phase([NaN], 'result[0] >= 0.9', 'result[0] < 0.9')).toBe('Inconclusive');
  });
  it('empty vector: result[0] is an index error → Error naming the empty result', () => {
    const r = evaluateResult({ successCondition: cond('result[0] >= 0.95'), failureCondition: undefined }, []);
    expect(r.phase).toBe('Error');
    expect(r.detail).toMatch(/nil or empty/);
  });
  it('a condition that is not a bool → Error', () => {
    expect(phase(1, 'result + 1')).toBe('Error');
  });
  it('len, default and indexing as real templates use them', () => {
    expect(phase([0.2, 0.3], 'len(result) == 2 && result[1] > result[0]')).toBe('Successful');
    expect(phase([], 'default(result, [1])[0] == 1')).toBe('Successful');
  });
});

describe('prometheus provider typing', () => {
  it('scalar → number, vector → array (value text like [10,11]), matrix → flat, string → Error', () => {
    expect(typeResult({ type: 'scalar', t: 1, v: 0.5 })).toEqual({ ok: true, result: 0.5, value: '0.5' });
    expect(typeResult({ type: 'vector', series: [{ labels: {}, t: 1, v: 10 }, { labels: {}, t: 1, v: 11 }] })).toEqual({ ok: true, result: [10, 11], value: '[10,11]' });
    expect(typeResult({ type: 'matrix', series: [{ labels: {}, points: [{ t: 1, v: 1 }, { t: 2, v: 2 }] }, { labels: {}, points: [{ t: 1, v: 3 }] }] })).toMatchObject({ ok: true, result: [1, 2, 3] });
    expect(typeResult({ type: 'string', t: 1, value: 'x' }).ok).toBe(false);
    expect(typeResult({ type: 'vector', series: [], warnings: ['partial response'] }).ok).toBe(false);
  });
});

describe('AnalysisTemplate reader', () => {
  it('reads the fixture unchanged and substitutes {{args.*}} (declared defaults, supplied values)', () => {
    const [t] = loadTemplateFile(path.resolve('test/fixtures/canary/success-rate.yaml'), { args: { 'service-name': 'gw-2' } });
    expect(t!.name).toBe('success-rate');
    const m = t!.metrics[0]!;
    expect(m.query).toContain('gateway=~"gw-2"');
    expect(m.query).toContain('[10s]');
    expect(m.track).toMatchObject({ intervalMs: 5000, count: 2, failureLimit: 0, dryRun: false });
    expect(m.successCondition?.source).toBe('result[0] >= 0.95');
  });
  it('an argument without a value (and none supplied) is an error naming it', () => {
    expect(() => loadTemplateFile(path.resolve('test/fixtures/canary/success-rate.yaml'))).toThrow(/service-name/);
    expect(() => substituteArgs('{{args.nope}}', {}, 'x')).toThrow(AnalysisTemplateError);
  });
  it('ClusterAnalysisTemplate, multi-document files, intstr limits, dryRun regex', () => {
    const text = [
      'apiVersion: argoproj.io/v1alpha1\nkind: ClusterAnalysisTemplate\nmetadata: {name: a}\nspec:\n  metrics:\n  - name: m1\n    count: "3"\n    interval: 1m\n    failureLimit: "1"\n    provider: {prometheus: {query: up}}',
      'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: b}\nspec:\n  dryRun: [{metricName: "lat.*"}]\n  metrics:\n  - name: latency\n    provider: {prometheus: {query: up}}\n  - name: errors\n    provider: {prometheus: {query: up}}',
    ].join('\n---\n');
    const ts = parseTemplates(text, 'x.yaml');
    expect(ts.map((t) => t.kind)).toEqual(['ClusterAnalysisTemplate', 'AnalysisTemplate']);
    expect(ts[0]!.metrics[0]!.track).toMatchObject({ count: 3, intervalMs: 60_000, failureLimit: 1 });
    expect(ts[1]!.metrics.map((m) => m.track.dryRun)).toEqual([true, false]);
  });
  it('other providers are refused by name (exit 2)', () => {
    const e = (() => {
      try {
        compileTemplate(template([{ name: 'web', provider: { web: { url: 'http://x' } } }]));
      } catch (err) {
        return err as AnalysisTemplateError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(AnalysisTemplateError);
    expect(e!.exitCode).toBe(2);
    expect(e!.message).toMatch(/provider web .*prometheus metrics only/);
  });
  it("Argo's validation: count > 1 needs an interval; count ≥ failureLimit + consecutiveSuccessLimit", () => {
    expect(() => compileTemplate(template([{ name: 'm', count: 3, provider: prom() }]))).toThrow(/needs an interval/);
    expect(() => compileTemplate(template([{ name: 'm', count: 2, interval: '1s', failureLimit: 2, consecutiveSuccessLimit: 1, provider: prom() }]))).toThrow(/failureLimit \+ consecutiveSuccessLimit/);
    expect(() => compileTemplate(template([{ name: 'm', successCondition: 'result >', provider: prom() }]))).toThrow(AnalysisTemplateError);
  });
});

/** An analysis run whose provider answers from a script per metric. */
async function run(metrics: unknown[], answers: Record<string, ProviderResult[]>, extra: Record<string, unknown> = {}, deadlineMs?: number) {
  const t = compileTemplate(template(metrics, extra));
  const clock = fakeClock();
  const calls: Record<string, number> = {};
  const r = await runAnalysis([t], {
    ...clock,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    measure: async (m) => {
      const i = calls[m.name] ?? 0;
      calls[m.name] = i + 1;
      const seq = answers[m.name] ?? [];
      const result = seq[Math.min(i, seq.length - 1)]!;
      return { ...evaluateResult(m, result), value: null };
    },
  });
  return { r, calls, at: clock.now() };
}

describe('analysis run', () => {
  it('5xx for two consecutive windows: count 2, failureLimit 1 — one bad window is not enough, two are', async () => {
    const m = { name: 'err', interval: '5s', count: 2, failureLimit: 1, successCondition: 'result[0] <= 0.005', provider: prom() };
    expect((await run([m], { err: [[0.02], [0.001]] })).r.phase).toBe('Successful');
    const bad = await run([m], { err: [[0.02], [0.03]] });
    expect(bad.r.phase).toBe('Failed');
    expect(bad.at).toBe(5000);
  });
  it('the 5th consecutive Error ends the metric in Error (default consecutiveErrorLimit 4), retried on the error interval', async () => {
    const { r, calls } = await run([{ name: 'm', interval: '5s', count: 3, successCondition: 'result[0] > 0', provider: prom() }], { m: [[]] });
    expect(r.phase).toBe('Error');
    expect(calls.m).toBe(5);
    expect(r.metrics[0]!.counters).toMatchObject({ error: 5, count: 0 });
  });
  it('an Error then a good answer resets the streak', async () => {
    const { r } = await run([{ name: 'm', interval: '5s', count: 2, successCondition: 'result[0] > 0', provider: prom() }], { m: [[], [], [1], [1]] });
    expect(r.phase).toBe('Successful');
  });
  it('run phase is the worst metric phase; a failing metric terminates the others; dry-run metrics do not count', async () => {
    const metrics = [
      { name: 'ok', interval: '5s', count: 4, successCondition: 'result > 0', provider: prom() },
      { name: 'bad', interval: '5s', count: 4, successCondition: 'result > 0', provider: prom() },
      { name: 'dry', interval: '5s', count: 4, successCondition: 'result > 0', provider: prom() },
    ];
    const { r, at } = await run(metrics, { ok: [1], bad: [1, 0], dry: [0] }, { dryRun: [{ metricName: 'dry' }] });
    expect(r.phase).toBe('Failed');
    expect(r.reason).toMatch(/^bad:/);
    expect(at).toBe(5000);
    expect(r.metrics.find((m) => m.name === 'ok')!.phase).toBe('Successful');
    expect(r.dryRunSummary).toEqual({ Failed: 1 });
  });
  it('inconclusive beyond inconclusiveLimit → Inconclusive', async () => {
    const { r } = await run([{ name: 'm', interval: '1s', count: 5, inconclusiveLimit: 1, successCondition: 'result > 1', failureCondition: 'result < 0', provider: prom() }], { m: [0.5] });
    expect(r.phase).toBe('Inconclusive');
    expect(r.metrics[0]!.counters.inconclusive).toBe(2);
  });
  it('consecutiveSuccessLimit ends early; not reached by count → Inconclusive', async () => {
    const m = { name: 'm', interval: '1s', count: 4, consecutiveSuccessLimit: 2, failureLimit: 2, successCondition: 'result > 0', provider: prom() };
    const early = await run([m], { m: [0, 1, 1] });
    expect(early.r.phase).toBe('Successful');
    expect(early.r.metrics[0]!.counters.count).toBe(3);
    expect((await run([m], { m: [1, 0, 1, 0] })).r.phase).toBe('Inconclusive');
  });
  it('initialDelay holds the first measurement; an unbounded metric runs until the deadline and is then Successful', async () => {
    const { r, calls } = await run([{ name: 'm', interval: '5s', initialDelay: '3s', successCondition: 'result > 0', provider: prom() }], { m: [1] }, {}, 20_000);
    expect(r.phase).toBe('Successful');
    expect(r.metrics[0]!.measurements.map((x) => x.at)).toEqual([3000, 8000, 13000, 18000]);
    expect(calls.m).toBe(4);
  });
  it('no interval → exactly one measurement', async () => {
    const { r, calls } = await run([{ name: 'm', successCondition: 'result > 0', provider: prom() }], { m: [1] });
    expect(r.phase).toBe('Successful');
    expect(calls.m).toBe(1);
  });
});

describe('the plan template (scenarios/canary/plan-analysis.yaml)', () => {
  const file = path.resolve('scenarios/canary/plan-analysis.yaml');
  const load = () => loadTemplateFile(file, { args: { canary: 'gw-2', stable: 'gw-1|gw-3', window: '5s' } })[0]!;
  it('compiles with the canary arguments; the degraded metric fails at once and fails closed', () => {
    const t = load();
    expect(t.metrics.map((m) => m.name)).toEqual(['canary-5xx-rate', 'canary-p99', 'canary-p99-regression', 'canary-queue-depth', 'canary-queue-growth', 'canary-degraded']);
    const deg = t.metrics.find((m) => m.name === 'canary-degraded')!;
    expect(deg.query).toContain('or vector(1)');
    expect(deg.track.failureLimit).toBeUndefined();
    expect(evaluateResult(deg, [1]).phase).toBe('Failed');
    expect(evaluateResult(deg, [0]).phase).toBe('Successful');
    const err = t.metrics.find((m) => m.name === 'canary-5xx-rate')!;
    expect(err.track).toMatchObject({ initialDelayMs: 5000, intervalMs: 5000, count: 2, failureLimit: 1 });
    expect(err.query).toContain('gateway="gw-2"');
    expect(t.metrics.find((m) => m.name === 'canary-p99-regression')!.query).toContain('gateway=~"gw-1|gw-3"');
  });
  it('a step: 5xx at 2 % in both windows fails at the second window; the degraded probe ends the step at its next measurement', async () => {
    const t = load();
    const clock = fakeClock();
    const answer = (name: string, at: number): ProviderResult => {
      if (name === 'canary-5xx-rate') return [0.02];
      if (name === 'canary-degraded') return [0];
      if (name === 'canary-p99-regression') return [1.0];
      return [0.01];
    };
    const r = await runAnalysis([t], { ...clock, measure: async (m) => ({ ...evaluateResult(m, answer(m.name, clock.now())), value: null }) });
    expect(r.phase).toBe('Failed');
    expect(r.reason).toMatch(/^canary-5xx-rate/);
    expect(r.endedAt).toBe(10_000);
    const clock2 = fakeClock();
    const r2 = await runAnalysis([t], { ...clock2, measure: async (m) => ({ ...evaluateResult(m, m.name === 'canary-degraded' && clock2.now() >= 3000 ? [1] : m.name === 'canary-p99-regression' ? [1] : [0]), value: null }) });
    expect(r2.phase).toBe('Failed');
    expect(r2.reason).toMatch(/^canary-degraded/);
    expect(r2.endedAt).toBe(3000);
  });
  it('a clean step ends when the bounded metrics are done (two windows); the watcher is terminated Successful', async () => {
    const t = load();
    const clock = fakeClock();
    const r = await runAnalysis([t], { ...clock, measure: async (m) => ({ ...evaluateResult(m, m.name === 'canary-p99-regression' ? [1.02] : [0]), value: null }) });
    expect(r.phase).toBe('Successful');
    expect(r.endedAt).toBe(10_000);
    expect(r.metrics.find((m) => m.name === 'canary-degraded')!.counters.count).toBe(5);
  });
});

describe('the real-gateway template (scenarios/canary/openclaw-analysis.yaml)', () => {
  const file = path.resolve('scenarios/canary/openclaw-analysis.yaml');
  const load = () => loadTemplateFile(file, { args: { canary: 'gw-2', stable: 'gw-1', window: '5s' } })[0]!;
  it('reads only what a bed of real gateways exports: HAProxy per-server series and the blackbox /readyz probe', () => {
    const t = load();
    expect(t.metrics.map((m) => m.name)).toEqual(['canary-5xx-rate', 'canary-avg-response-time', 'canary-not-ready']);
    for (const m of t.metrics) expect(m.query).not.toMatch(/openclaw_/);
    const err = t.metrics.find((m) => m.name === 'canary-5xx-rate')!;
    expect(err.query).toContain('haproxy_server_http_responses_total{proxy="be_gateways",server="gw-2",code="5xx"}[5s]');
    expect(err.track).toMatchObject({ initialDelayMs: 5000, intervalMs: 5000, count: 2, failureLimit: 1 });
    expect(t.metrics.find((m) => m.name === 'canary-avg-response-time')!.query).toContain('server="gw-2"');
  });
  it('not ready fails closed (no probe series is not ready) and on the second not-ready measurement of a step', async () => {
    const ready = load().metrics.find((m) => m.name === 'canary-not-ready')!;
    expect(ready.query).toContain('probe_success{job="blackbox-readyz",gateway="gw-2"}');
    expect(ready.query).toContain('or vector(1)');
    expect(evaluateResult(ready, [1]).phase).toBe('Failed');
    expect(evaluateResult(ready, [0]).phase).toBe('Successful');
    expect(ready.track.failureLimit).toBe(1);
    const clock = fakeClock();
    const r = await runAnalysis([load()], { ...clock, measure: async (m) => ({ ...evaluateResult(m, m.name === 'canary-not-ready' && clock.now() >= 3000 ? [1] : m.name === 'canary-avg-response-time' ? [0.03] : [0]), value: null }) });
    expect(r.phase).toBe('Failed');
    expect(r.reason).toMatch(/^canary-not-ready/);
    expect(r.endedAt).toBe(5000);
  });
});
