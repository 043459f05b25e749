import { describe, expect, it } from 'vitest';
import { ExprError, parseThresholdExpr } from '../../../src/config/threshold-expr.ts';
import { evaluateClientThreshold, type MetricSummary } from '../../../src/score/threshold.ts';

describe('parseThresholdExpr', () => {
  it.each([
    ['p(95)<100ms', { kind: 'p', p: 95 }, '<', 100],
    ['p(99)<=1s', { kind: 'p', p: 99 }, '<=', 1000],
    ['p(99.9) < 2m', { kind: 'p', p: 99.9 }, '<', 120_000],
    ['avg<200', { kind: 'avg' }, '<', 200],
    ['max < 1.5s', { kind: 'max' }, '<', 1500],
    ['med>=0.5ms', { kind: 'med' }, '>=', 0.5],
    ['rate<0.001', { kind: 'rate' }, '<', 0.001],
    ['count==0', { kind: 'count' }, '==', 0],
    ['count>=5000', { kind: 'count' }, '>=', 5000],
    ['  min > 0  ', { kind: 'min' }, '>', 0],
  ])('%s', (src, aggregation, op, value) => {
    const e = parseThresholdExpr(src);
    expect(e.aggregation).toEqual(aggregation);
    expect(e.op).toBe(op);
    expect(e.value).toBeCloseTo(value, 9);
    expect(e.source).toBe(src.trim());
  });

  it.each([
    ['p95<100ms', /expected an aggregation/],
    ['p(abc)<1', /percentile "abc" is not a number/],
    ['p(101)<1', /outside 0…100/],
    ['avg 100', /expected a comparison/],
    ['avg=100', /use == for equality/],
    ['avg<', /expected a number/],
    ['avg<fast', /expected a number/],
    ['p(95)<100xs', /unknown unit "xs"/],
    ['count==0ms', /count is unitless/],
    ['rate<2', /fraction between 0 and 1/],
    ['count>=1.5', /whole number/],
    ['avg<100ms extra', /unexpected "extra"/],
    ['', /expected an aggregation/],
  ])('rejects %j', (src, msg) => {
    expect(() => parseThresholdExpr(src)).toThrow(ExprError);
    expect(() => parseThresholdExpr(src)).toThrow(msg);
  });

  it('names the expression in the error', () => {
    expect(() => parseThresholdExpr('p(95)<<1')).toThrow(/bad threshold expression "p\(95\)<<1"/);
  });
});

describe('evaluateClientThreshold', () => {
  const latency: MetricSummary = { samples: 1000, avg: 80, min: 2, max: 900, med: 60, percentile: (p) => (p >= 99 ? 450 : p >= 95 ? 120 : 60) };

  it('passes and fails on percentiles with units normalised to ms', () => {
    expect(evaluateClientThreshold({ name: 'p95', expr: 'p(95)<0.2s' }, latency)).toMatchObject({ verdict: 'pass', observed: 120, source: 'client', unit: 'ms' });
    const r = evaluateClientThreshold({ name: 'p95', metric: 'http_req_duration', expr: 'p(95)<100ms' }, latency);
    expect(r).toMatchObject({ verdict: 'fail', observed: 120 });
    expect(r.detail).toContain('http_req_duration p(95) = 120 ms violates < 100 ms');
  });

  it('judges avg, max, med, rate and count', () => {
    expect(evaluateClientThreshold({ name: 'a', expr: 'avg<200' }, latency).verdict).toBe('pass');
    expect(evaluateClientThreshold({ name: 'm', expr: 'max<500' }, latency).verdict).toBe('fail');
    expect(evaluateClientThreshold({ name: 'med', expr: 'med<=60' }, latency).verdict).toBe('pass');
    const errors: MetricSummary = { samples: 5000, count: 3, rate: 3 / 5000 };
    expect(evaluateClientThreshold({ name: 'r', expr: 'rate<0.001' }, errors)).toMatchObject({ verdict: 'pass', observed: 0.0006 });
    expect(evaluateClientThreshold({ name: 'c', expr: 'count==0' }, errors)).toMatchObject({ verdict: 'fail', observed: 3 });
    expect(evaluateClientThreshold({ name: 'n', expr: 'count>=5000' }, latency)).toMatchObject({ verdict: 'fail', observed: 1000 });
  });

  it('zero errors out of many requests is a pass, not no data', () => {
    expect(evaluateClientThreshold({ name: 'c', expr: 'count==0' }, { samples: 5000, count: 0 })).toMatchObject({ verdict: 'pass', observed: 0 });
  });

  it('no samples, or no summary at all, is no_data — never a pass', () => {
    expect(evaluateClientThreshold({ name: 'c', expr: 'count==0' }, { samples: 0, count: 0 })).toMatchObject({ verdict: 'no_data', observed: null });
    expect(evaluateClientThreshold({ name: 'p', expr: 'p(95)<100' }, undefined)).toMatchObject({ verdict: 'no_data', observed: null });
    expect(evaluateClientThreshold({ name: 'p', expr: 'p(95)<100' }, { samples: 10 })).toMatchObject({ verdict: 'no_data' });
  });
});
