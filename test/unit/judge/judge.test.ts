import { describe, expect, it } from 'vitest';
import { judge, JudgeConfigError, type JudgeMetricInput } from '../../../src/judge/index.ts';
import { normalish } from './helpers.ts';

const steady = normalish(300, 100, 10, 31);
const steady2 = normalish(300, 100, 10, 32);
const slower = normalish(300, 140, 10, 33);

describe('judge()', () => {
  it('fills Kayenta’s defaults into the config it reports', () => {
    const r = judge({}, [{ name: 'latency', group: 'requests', control: steady, experiment: steady2 }]);
    expect(r.config).toMatchObject({ confidence: 0.98, tolerance: 0.25, groupWeights: {}, scoreThresholds: { pass: 95, marginal: 75 } });
    expect(r.metrics[0]?.config).toMatchObject({
      direction: 'either',
      nanStrategy: 'remove',
      critical: false,
      mustHaveData: false,
      muted: false,
      outliers: { strategy: 'keep', outlierFactor: 3 },
      effectSize: { measure: 'meanRatio', allowedIncrease: 1, allowedDecrease: 1, criticalIncrease: 1, criticalDecrease: 1 },
    });
    expect(r.metrics[0]?.test?.ci.confidence).toBe(0.98);
    expect(r).toMatchObject({ score: 100, classification: 'Pass', reason: null });
  });

  it('a regressed metric fails its group; weights decide the summary', () => {
    const metrics: JudgeMetricInput[] = [
      { name: 'latency', group: 'requests', control: steady, experiment: slower, direction: 'increase' },
      { name: 'errors', group: 'requests', control: steady, experiment: steady2, direction: 'increase' },
      { name: 'cpu', group: 'system', control: steady, experiment: steady2 },
    ];
    const r = judge({ groupWeights: { requests: 80, system: 20 } }, metrics);
    expect(r.metrics.map((x) => [x.name, x.classification])).toEqual([
      ['latency', 'High'],
      ['errors', 'Pass'],
      ['cpu', 'Pass'],
    ]);
    // requests 50 × 0.8 + system 100 × 0.2 = 60.
    expect(r.score).toBe(60);
    expect(r.classification).toBe('Fail');
    expect(r.metrics[0]?.groups).toEqual(['requests']);
  });

  it('a critical regression zeroes the score', () => {
    const r = judge({}, [
      { name: 'latency', group: 'requests', control: steady, experiment: slower, critical: true },
      ...Array.from({ length: 30 }, (_, i) => ({ name: `ok${i}`, group: 'requests', control: steady, experiment: steady2 })),
    ]);
    expect(r.groups[0]?.score).toBeCloseTo((100 * 30) / 31, 9);
    expect(r.score).toBe(0);
    expect(r.reason).toMatch(/critical metric latency is High/);
  });

  it('half the metrics without data zeroes the score', () => {
    const r = judge({}, [
      { name: 'a', group: 'g', control: steady, experiment: steady2 },
      { name: 'b', group: 'g', control: [], experiment: steady2 },
    ]);
    expect(r.metrics[1]?.classification).toBe('Nodata');
    expect(r.score).toBe(0);
  });

  it('accepts typed arrays', () => {
    const r = judge({}, [{ name: 'x', group: 'g', control: Float64Array.from(steady), experiment: Float64Array.from(slower) }]);
    expect(r.metrics[0]?.classification).toBe('High');
  });

  it.each([
    [{ confidence: 1 }, [], /confidence/],
    [{ groupWeights: { a: 70, b: 40 } }, [], /group weights add up to more than 100/],
    [{ scoreThresholds: { pass: 70, marginal: 80 } }, [], /marginal must not exceed pass/],
    [{}, [{ name: 'x', group: 'g', control: [1], experiment: [2], nanStrategy: 'none' }], /metric x: nanStrategy/],
    [{}, [{ name: 'x', group: 'g', control: [1, '2'], experiment: [2] }], /metric x: control\[1\]: expected a number/],
    [{}, [{ name: 'x', group: [], control: [1], experiment: [2] }], /metrics\[0\]: group/],
    [
      {},
      [
        { name: 'x', group: 'g', control: [1], experiment: [2] },
        { name: 'x', group: 'g', control: [1], experiment: [2] },
      ],
      /metric x appears twice/,
    ],
  ])('rejects bad input: %j', (config, metrics, message) => {
    expect(() => judge(config as never, metrics as never)).toThrow(JudgeConfigError);
    expect(() => judge(config as never, metrics as never)).toThrow(message);
  });
});
