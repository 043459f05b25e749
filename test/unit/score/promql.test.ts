import { describe, expect, it } from 'vitest';
import { PromClient, PromError, type InstantResult, type RangeSeries } from '../../../src/prom/client.ts';
import { PromThresholdSchema, type PromThreshold } from '../../../src/config/prom-threshold.ts';
import { checkPromQL, substitutePlaceholders } from '../../../src/prom/syntax.ts';
import { evaluatePromThreshold, judgeSeries } from '../../../src/score/promql.ts';

/** A PromClient whose answers the test scripts, recording what was asked. */
class ScriptedClient extends PromClient {
  asked: { kind: string; query: string; step?: number; start?: number; end?: number }[] = [];
  readonly onInstant: (q: string) => InstantResult;
  readonly onRange: (q: string) => RangeSeries[];
  constructor(onInstant: (q: string) => InstantResult = () => ({ type: 'vector', series: [] }), onRange: (q: string) => RangeSeries[] = () => []) {
    super({ url: 'http://prom.invalid' });
    this.onInstant = onInstant;
    this.onRange = onRange;
  }
  override async instant(query: string, time?: Date | number): Promise<InstantResult> {
    this.asked.push({ kind: 'instant', query, ...(time !== undefined ? { end: Number(time) } : {}) });
    return this.onInstant(query);
  }
  override async range(query: string, start: Date | number, end: Date | number, step: number): Promise<RangeSeries[]> {
    this.asked.push({ kind: 'range', query, step, start: Number(start), end: Number(end) });
    return this.onRange(query);
  }
}

const start = new Date('2025-01-01T00:00:00Z');
const end = new Date('2025-01-01T00:10:00Z');
const w = { start, end, scrapeIntervalSeconds: 15, settle: false };
const vec = (...vs: number[]): InstantResult => ({ type: 'vector', series: vs.map((v, i) => ({ labels: { instance: `gw${i}` }, t: 0, v })) });
const th = (o: Partial<PromThreshold> = {}): PromThreshold => ({ name: 't', query: 'x', op: '<', value: 1, mode: 'instant', ...o });
const series = (values: (number | null)[], step = 10): RangeSeries => ({
  labels: { instance: 'gw0' },
  points: values.flatMap((v, i) => (v === null ? [] : [{ t: 1000 + i * step, v }])),
});

describe('placeholders', () => {
  it('substitutes $__range, $__interval, ${__interval} and $__rate_interval', () => {
    expect(substitutePlaceholders('rate(a[$__interval]) / rate(b[${__interval}]) + c[$__range] + d[$__rate_interval]', { range: 600, interval: 30, rateInterval: 60 })).toBe(
      'rate(a[30s]) / rate(b[30s]) + c[600s] + d[60s]',
    );
  });

  it('instant mode covers the run plus one scrape before and two after, range mode the step; rate interval ≥ 4 scrapes', async () => {
    const c = new ScriptedClient(() => vec(0.5), () => [series([0.5])]);
    await evaluatePromThreshold(c, th({ query: 'rate(a[$__interval])' }), w);
    await evaluatePromThreshold(c, th({ query: 'rate(a[$__rate_interval])', mode: 'range', window: { step: 10, consecutive: 2 } }), w);
    // 600 s run + 3 × 15 s scrapes, evaluated two scrapes after the end: the run's first and last
    // events are inside the window, so a burst shorter than a scrape does not read as zero.
    expect(c.asked[0]).toMatchObject({ query: 'rate(a[645s])', end: end.getTime() + 30_000 });
    expect(c.asked[1]).toMatchObject({ kind: 'range', query: 'rate(a[60s])', step: 10 });
    // No window reaches before the run starts.
    expect(c.asked[1]!.start).toBe(start.getTime() / 1000 + 10);
  });
});

describe('instant thresholds', () => {
  it('empty result is no_data, never a pass (and never zero)', async () => {
    const r = await evaluatePromThreshold(new ScriptedClient(() => vec()), th({ op: '<', value: 0.001 }), w);
    expect(r).toMatchObject({ verdict: 'no_data', observed: null });
    expect(r.detail).toMatch(/no series/);
  });

  it('all-NaN is no_data; a pass over only some series is inconclusive; a measured failure stands', async () => {
    expect((await evaluatePromThreshold(new ScriptedClient(() => vec(NaN, NaN)), th(), w)).verdict).toBe('no_data');
    const r = await evaluatePromThreshold(new ScriptedClient(() => vec(NaN, 0.2)), th(), w);
    expect(r).toMatchObject({ verdict: 'inconclusive', observed: 0.2 });
    expect(r.detail).toMatch(/1 of 2 series answered NaN/);
    expect(await evaluatePromThreshold(new ScriptedClient(() => vec(NaN, 3)), th(), w)).toMatchObject({ verdict: 'fail', observed: 3 });
  });

  it('an answer Prometheus warned about (a partial response) does not pass', async () => {
    const r = await evaluatePromThreshold(new ScriptedClient(() => ({ ...vec(0.2), warnings: ['partial response: store unavailable'] })), th(), w);
    expect(r.verdict).toBe('inconclusive');
    expect(r.detail).toMatch(/partial response/);
  });

  it('every series must pass; the worst one is reported', async () => {
    const r = await evaluatePromThreshold(new ScriptedClient(() => vec(0.2, 3, 0.9)), th({ op: '<', value: 1 }), w);
    expect(r).toMatchObject({ verdict: 'fail', observed: 3 });
    expect(r.detail).toContain('instance="gw1"');
    const low = await evaluatePromThreshold(new ScriptedClient(() => vec(0.999, 0.95)), th({ op: '>', value: 0.99 }), w);
    expect(low).toMatchObject({ verdict: 'fail', observed: 0.95 });
  });

  it('+Inf from histogram_quantile is a value (beyond the largest bucket: fails an upper bound); elsewhere ±Inf is no number', async () => {
    expect(await evaluatePromThreshold(new ScriptedClient(() => vec(Infinity)), th({ query: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[1m])))' }), w)).toMatchObject({ verdict: 'fail', observed: Infinity });
    const div = await evaluatePromThreshold(new ScriptedClient(() => vec(Infinity)), th(), w);
    expect(div.verdict).toBe('no_data');
    expect(div.detail).toMatch(/\+Inf \(not a number/);
  });

  it('scalars count as one series', async () => {
    expect(await evaluatePromThreshold(new ScriptedClient(() => ({ type: 'scalar', t: 0, v: 0.5 })), th(), w)).toMatchObject({ verdict: 'pass', observed: 0.5 });
  });

  it('an unreachable Prometheus is no_data naming the problem', async () => {
    const c = new ScriptedClient(() => {
      throw new PromError('unreachable', 'http://prom.invalid/api/v1/query', 'x', 'Prometheus unreachable at http://prom.invalid: ECONNREFUSED');
    });
    const r = await evaluatePromThreshold(c, th(), w);
    expect(r.verdict).toBe('no_data');
    expect(r.detail).toContain('ECONNREFUSED');
  });
});

describe('range thresholds: consecutive failing windows', () => {
  const lt1 = { op: '<' as const, value: 1, query: 'x' };
  it('judgeSeries counts the longest failing streak and fails at the configured run', () => {
    const s = judgeSeries(series([0, 2, 2, 0, 2, 2, 2, 0]), lt1, 3);
    expect(s.longestStreak).toBe(3);
    expect(s.failedAt).toBeDefined();
    expect(judgeSeries(series([0, 2, 2, 0, 2, 2, 2, 0]), lt1, 4).failedAt).toBeUndefined();
    expect(judgeSeries(series([0, 0]), lt1, 1).longestStreak).toBe(0);
  });

  it('a scrape gap neither fails nor resets a streak; a non-quantile +Inf is a gap, a quantile +Inf a value', () => {
    expect(judgeSeries(series([2, null, 2]), lt1, 2).longestStreak).toBe(2);
    const withNaN: RangeSeries = { labels: {}, points: [{ t: 1, v: 2 }, { t: 2, v: NaN }, { t: 3, v: 2 }] };
    expect(judgeSeries(withNaN, lt1, 2).failedAt).toBe(3);
    const withInf: RangeSeries = { labels: {}, points: [{ t: 1, v: 0 }, { t: 2, v: Infinity }, { t: 3, v: 0 }] };
    expect(judgeSeries(withInf, lt1, 1).failedAt).toBeUndefined();
    expect(judgeSeries(withInf, { ...lt1, query: 'histogram_quantile(0.99, x)' }, 1).failedAt).toBe(2);
  });

  const rangeTh = th({ mode: 'range', window: { step: 10, consecutive: 2 }, op: '<', value: 0.005 });

  it('one failing window is tolerated; two in a row fail (Argo-style limit)', async () => {
    const once = await evaluatePromThreshold(new ScriptedClient(undefined, () => [series([0.001, 0.009, 0.001, 0.009, 0.001])]), rangeTh, w);
    expect(once).toMatchObject({ verdict: 'pass', observed: 0.009 });
    const twice = await evaluatePromThreshold(new ScriptedClient(undefined, () => [series([0.001, 0.009, 0.009, 0.001])]), rangeTh, w);
    expect(twice.verdict).toBe('fail');
    expect(twice.detail).toMatch(/longest run of failing 10s windows 2/);
  });

  it('streaks are per series: failures on different series do not add up', async () => {
    const a = { ...series([0.009, 0.001, 0.009]), labels: { instance: 'a' } };
    const b = { ...series([0.001, 0.009, 0.001]), labels: { instance: 'b' } };
    expect((await evaluatePromThreshold(new ScriptedClient(undefined, () => [a, b]), rangeTh, w)).verdict).toBe('pass');
  });

  it('no series or all-NaN over the run is no_data', async () => {
    expect((await evaluatePromThreshold(new ScriptedClient(undefined, () => []), rangeTh, w)).verdict).toBe('no_data');
    const nan: RangeSeries = { labels: {}, points: [{ t: 1, v: NaN }] };
    expect((await evaluatePromThreshold(new ScriptedClient(undefined, () => [nan]), rangeTh, w)).verdict).toBe('no_data');
  });
});

describe('regression against a baseline', () => {
  const reg = (observed: number, baseline: number | null | undefined, maxIncreasePct = 15) =>
    evaluatePromThreshold(new ScriptedClient(() => vec(observed)), th({ name: 'p99', op: '<', value: 0.22, regression: { maxIncreasePct } }), { ...w, baseline: (n) => (n === 'p99' ? baseline : undefined) });

  it('passes within the allowed increase and fails beyond it', async () => {
    const ok = await reg(0.114, 0.1);
    expect(ok.verdict).toBe('pass');
    expect(ok.regression).toMatchObject({ baseline: 0.1, verdict: 'pass' });
    expect(ok.regression!.changePct).toBeCloseTo(14, 6);
    const bad = await reg(0.116, 0.1);
    expect(bad.verdict).toBe('fail');
    expect(bad.regression!.verdict).toBe('fail');
    expect(bad.detail).toMatch(/\+16\.0% vs baseline 0\.1/);
  });

  it('a missing baseline value is no_data for the comparison (and the threshold)', async () => {
    const r = await reg(0.1, undefined);
    expect(r.regression).toMatchObject({ verdict: 'no_data', baseline: null });
    expect(r.verdict).toBe('no_data');
  });

  it('an absolute failure stays a failure whatever the baseline says', async () => {
    const r = await reg(0.5, null);
    expect(r.verdict).toBe('fail');
  });

  it('a zero baseline: any increase fails, equal passes', async () => {
    expect((await reg(0.01, 0)).verdict).toBe('fail');
    expect((await reg(0, 0)).verdict).toBe('pass');
  });
});

describe('PromQL validation (lezer-promql)', () => {
  it.each(['sum(rate(a[$__rate_interval]))', 'histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))', '(sum(a) or vector(0)) / sum(b)', 'max_over_time((a - b)[$__interval:])'])('accepts %s', (q) => {
    expect(checkPromQL(q)).toBeUndefined();
  });

  it.each(['sum(rate(a[5m])', 'a +', 'foo{a="b"', '', 'nosuchfn(a)', 'a b'])('rejects %j', (q) => {
    expect(checkPromQL(q)?.message).toMatch(/invalid PromQL|empty query/);
  });

  it('the threshold schema refuses invalid PromQL and range mode without a window', () => {
    expect(PromThresholdSchema.safeParse({ name: 'x', query: 'sum(', op: '<', value: 1 }).success).toBe(false);
    const r = PromThresholdSchema.safeParse({ name: 'x', query: 'up', op: '<', value: 1, mode: 'range' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['window']);
    const ok = PromThresholdSchema.parse({ name: 'x', query: 'up', op: '<', value: 1, mode: 'range', window: { step: '30s', consecutive: 2 } });
    expect(ok.window).toEqual({ step: 30, consecutive: 2 });
  });
});
