// The Kubernetes HPA golden vectors (replica_calculator_test.go and horizontal_test.go), one test
// per row, named by its row number. Inputs are the tests' own numbers: CPU in cores (each test pod
// has two containers of 1 CPU, so 2 cores of request per pod), custom metrics in their units
// (the Go tests write them in milli-units: 20000 there is 20 here).
import { describe, expect, it } from 'vitest';
import { CONTROLLER_DEFAULTS, scaleDownRulesWithDefaults, scaleUpRulesWithDefaults } from '../../../src/autoscale/hpa/defaults.ts';
import { computeReplicasForMetrics, type MetricContext } from '../../../src/autoscale/hpa/metrics.ts';
import {
  clampLegacy,
  rateLimitWithBehavior,
  scaleDownLimit,
  scaleUpLimit,
  stabilizeLegacy,
  stabilizeWithBehavior,
  type ScaleEvent,
} from '../../../src/autoscale/hpa/normalize.ts';
import type { MetricSample, MetricSpec, PodInfo, ScalingRules, Tolerances } from '../../../src/autoscale/hpa/types.ts';

const DEFAULT_TOL: Tolerances = { scaleDown: 0.1, scaleUp: 0.1 };

function cpuMetric(utilization: number): MetricSpec {
  return { type: 'Resource', key: 'resource/cpu', resource: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } };
}

function pods(n: number, opts: { requests?: number[]; unready?: number[]; pending?: number[] } = {}): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `pod-${i}`,
    phase: opts.pending?.includes(i) ? 'Pending' : 'Running',
    ready: !opts.unready?.includes(i),
    requests: { cpu: opts.requests?.[i] ?? 2 },
  }));
}

/** Per-pod values; `undefined` leaves the pod without a sample (missing). */
function perPod(values: (number | undefined)[]): MetricSample {
  const out: Record<string, number | null> = {};
  values.forEach((v, i) => {
    out[`pod-${i}`] = v === undefined ? null : v;
  });
  return { perPod: out };
}

function calc(args: {
  metric: MetricSpec;
  sample: MetricSample;
  current: number;
  pods?: PodInfo[];
  statusReplicas?: number;
  readyPods?: number;
  tolerances?: Tolerances;
}): number | null {
  const podList = args.pods ?? [];
  const ctx: MetricContext = {
    now: 1_000,
    specReplicas: args.current,
    statusReplicas: args.statusReplicas ?? args.current,
    readyPods: args.readyPods ?? podList.filter((p) => (p.phase ?? 'Running') === 'Running' && p.ready !== false).length,
    pods: podList,
    tolerances: args.tolerances ?? DEFAULT_TOL,
    options: CONTROLLER_DEFAULTS,
  };
  const result = computeReplicasForMetrics([args.metric], { [args.metric.key]: args.sample }, ctx);
  if (result.error !== null) throw new Error(`metric failed: ${result.error}`);
  return result.replicas;
}

const podsMetric = (target: number): MetricSpec => ({ type: 'Pods', key: 'pods/qps', metricName: 'qps', target: { type: 'AverageValue', averageValue: target * 1000 } });
const objectMetric = (type: 'Value' | 'AverageValue', target: number): MetricSpec => ({
  type: 'Object',
  key: 'object/Deployment/frontend/qps',
  metricName: 'qps',
  describedObject: { kind: 'Deployment', name: 'frontend' },
  target: type === 'Value' ? { type, value: target * 1000 } : { type, averageValue: target * 1000 },
});
const externalMetric = (type: 'Value' | 'AverageValue', target: number): MetricSpec => ({
  type: 'External',
  key: 'external/qps',
  metricName: 'qps',
  target: type === 'Value' ? { type, value: target * 1000 } : { type, averageValue: target * 1000 },
});

describe('HPA replica calculation (replica_calculator_test.go)', () => {
  it('row 1: scale up (util 50 % vs 30 %) → 5', () => {
    expect(calc({ metric: cpuMetric(30), sample: perPod([0.6, 1.0, 1.4]), current: 3, pods: pods(3) })).toBe(5);
  });

  it('row 2: scale up, an unready pod scales less → 4', () => {
    expect(calc({ metric: cpuMetric(30), sample: perPod([0.6, 1.0, 1.4]), current: 3, pods: pods(3, { unready: [0] }) })).toBe(4);
  });

  it('row 3: no scale, unready pods added back at 0 flip the direction → 3', () => {
    expect(calc({ metric: cpuMetric(30), sample: perPod([0.8, 1.0, 1.4]), current: 3, pods: pods(3, { unready: [1, 2] }) })).toBe(3);
  });

  it('row 4: scale down (util 28 % vs 50 %) → 3', () => {
    expect(calc({ metric: cpuMetric(50), sample: perPod([0.2, 0.6, 1.0, 0.5, 0.5]), current: 5, pods: pods(5) })).toBe(3);
  });

  it('row 5: scale down, unready pods excluded → 2', () => {
    expect(calc({ metric: cpuMetric(50), sample: perPod([0.2, 0.6, 1.0, 0.5, 0.5]), current: 5, pods: pods(5, { unready: [3, 4] }) })).toBe(2);
  });

  it('row 6: scale down, unscheduled (Pending) pods excluded → 1', () => {
    expect(calc({ metric: cpuMetric(50), sample: perPod([0.2]), current: 5, pods: pods(5, { pending: [1, 2, 3, 4] }) })).toBe(1);
  });

  it('row 7: Pods metric, average 20 vs 15 → 4', () => {
    expect(calc({ metric: podsMetric(15), sample: perPod([20, 10, 30]), current: 3, pods: pods(3) })).toBe(4);
  });

  it('row 8: Pods metric, unready pods still count (not CPU), integer average 31.666 → 7', () => {
    expect(calc({ metric: podsMetric(15), sample: perPod([50, 15, 30]), current: 3, pods: pods(3, { unready: [0, 1] }) })).toBe(7);
  });

  it('row 9: Object Value 20 vs 15 → 4', () => {
    expect(calc({ metric: objectMetric('Value', 15), sample: { value: 20 }, current: 3, pods: pods(3) })).toBe(4);
  });

  it('row 10: Object Value ignores unready pods (1 ready): 50 vs 10 → 5', () => {
    expect(calc({ metric: objectMetric('Value', 10), sample: { value: 50 }, current: 3, pods: pods(3, { unready: [0, 1] }) })).toBe(5);
  });

  it('row 11: Object AverageValue, total 20 vs 5 per pod → 4', () => {
    const ctx = { metric: objectMetric('AverageValue', 5), sample: { value: 20 }, current: 3, statusReplicas: 3 };
    expect(calc(ctx)).toBe(4);
  });

  it('row 12: External Value ignores unready pods (1 ready): 8.6 vs 4.4 → 2', () => {
    expect(calc({ metric: externalMetric('Value', 4.4), sample: { values: [8.6] }, current: 3, pods: pods(3, { unready: [0, 1] }) })).toBe(2);
  });

  it('row 13: External AverageValue, total 8.6 vs 2.15 per pod → 4', () => {
    expect(calc({ metric: externalMetric('AverageValue', 2.15), sample: { values: [8.6] }, current: 3, statusReplicas: 3 })).toBe(4);
  });

  it('row 14: External Value scale down, 8.6 vs 14.334 → 3', () => {
    expect(calc({ metric: externalMetric('Value', 14.334), sample: { values: [8.6] }, current: 5, pods: pods(5) })).toBe(3);
  });

  it('row 15: within the 10 % tolerance (util 102 %) → 3', () => {
    const p = pods(3, { requests: [1.8, 2.0, 2.2] });
    expect(calc({ metric: cpuMetric(100), sample: perPod([2.02, 2.06, 2.04]), current: 3, pods: p })).toBe(3);
  });

  it('row 16: outside a 0 % tolerance (util 101 %) → 4', () => {
    const p = pods(3, { requests: [1.8, 2.0, 2.2] });
    expect(calc({ metric: cpuMetric(100), sample: perPod([1.818, 2.02, 2.222]), current: 3, pods: p, tolerances: { scaleDown: 0, scaleUp: 0 } })).toBe(4);
  });

  it('row 17: outside an 8 % scale-up tolerance (util 109 %) → 4', () => {
    const p = pods(3, { requests: [1.8, 2.0, 2.2] });
    expect(calc({ metric: cpuMetric(100), sample: perPod([1.962, 2.18, 2.398]), current: 3, pods: p, tolerances: { scaleDown: 2.0, scaleUp: 0.08 } })).toBe(4);
  });

  it('row 18: outside a 34 % scale-down tolerance (util 65 %) → 2', () => {
    const p = pods(3, { requests: [1.8, 2.0, 2.2] });
    expect(calc({ metric: cpuMetric(100), sample: perPod([1.17, 1.3, 1.43]), current: 3, pods: p, tolerances: { scaleDown: 0.34, scaleUp: 0.1 } })).toBe(2);
  });

  it('row 19: missing metrics count as 100 % on a scale-down (24 % → 62 %) → 3', () => {
    expect(calc({ metric: cpuMetric(100), sample: perPod([0.8, 0.19, undefined, undefined]), current: 4, pods: pods(4) })).toBe(3);
  });

  it('row 20: missing and unready pods count as 0 on a scale-up (200 % → 66 %) → 4', () => {
    expect(calc({ metric: cpuMetric(50), sample: perPod([0.1, 4.0, undefined]), current: 3, pods: pods(3, { unready: [0] }) })).toBe(4);
  });

  it('row 21: a missing pod counts at the target when it is above 100 % (6 % → 124 %) → 2', () => {
    const p = pods(4, { requests: [2, 2, 4, 4], unready: [0] });
    expect(calc({ metric: cpuMetric(300), sample: perPod([0.1, 0.2, 0.2, undefined]), current: 4, pods: p })).toBe(2);
  });

  it('row 22: rolling update with max surge: the recount would scale up while the ratio says down → keep 2', () => {
    expect(calc({ metric: cpuMetric(50), sample: perPod([0.2, 0.2, undefined]), current: 2, pods: pods(3) })).toBe(2);
  });
});

/** generateScalingRules(pods, podsPeriod, percent, percentPeriod, window) of horizontal_test.go. */
function rules(podsValue: number, podsPeriod: number, percent: number, percentPeriod: number, window: number, select: ScalingRules['selectPolicy'] = 'Max'): ScalingRules {
  const policies: ScalingRules['policies'] = [];
  if (podsValue !== 0) policies.push({ type: 'Pods', value: podsValue, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: window, selectPolicy: select, policies, tolerance: null };
}

const NOW = 10_000;

/** generateEventsUniformDistribution: events spread over the last `period` seconds. */
function events(changes: number[], period: number): ScaleEvent[] {
  const segment = period / changes.length;
  return changes.map((change, i) => ({ change, time: NOW - (period - segment * (i + 1) + segment / 2), outdated: false }));
}

function rateLimit(args: { min: number; max: number; current: number; desired: number; up?: ScalingRules; down?: ScalingRules; upEvents?: ScaleEvent[]; downEvents?: ScaleEvent[] }) {
  return rateLimitWithBehavior({
    current: args.current,
    desired: args.desired,
    minReplicas: args.min,
    maxReplicas: args.max,
    // Unset directions get the API defaults, as GenerateHPAScaleUp/DownRules give them.
    scaleUp: args.up ?? scaleUpRulesWithDefaults(undefined),
    scaleDown: args.down ?? { ...scaleDownRulesWithDefaults(undefined), stabilizationWindowSeconds: 300 },
    scaleUpEvents: args.upEvents ?? [],
    scaleDownEvents: args.downEvents ?? [],
    now: NOW,
  });
}

describe('HPA behavior: rate limits (TestScalingWithRules, TestCalculate*Limit*)', () => {
  it('row B1: scale up with the default behavior (4 pods or 100 % per 15 s) → 20 ScaleUpLimit', () => {
    expect(rateLimit({ min: 1, max: 1000, current: 10, desired: 50 })).toEqual({ replicas: 20, limit: 'ScaleUpLimit' });
  });

  it('row B2: pods policy larger than percent policy → 110', () => {
    expect(rateLimit({ min: 1, max: 1000, current: 10, desired: 500, up: rules(100, 60, 100, 60, 0) })).toEqual({ replicas: 110, limit: 'ScaleUpLimit' });
  });

  it('row B3: percent policy larger than pods policy → 20', () => {
    expect(rateLimit({ min: 1, max: 1000, current: 10, desired: 500, up: rules(2, 60, 100, 60, 0) })).toEqual({ replicas: 20, limit: 'ScaleUpLimit' });
  });

  it('row B4: percent policy limitation (+200 %) → 30', () => {
    expect(rateLimit({ min: 1, max: 1000, current: 10, desired: 50, up: rules(0, 0, 200, 60, 0) })).toEqual({ replicas: 30, limit: 'ScaleUpLimit' });
  });

  it('row B5: scale down, percent policy vs pods policy (Max picks the larger change) → 80 ScaleDownLimit', () => {
    expect(rateLimit({ min: 1, max: 1000, current: 100, desired: 2, down: rules(20, 60, 1, 60, 300) })).toEqual({ replicas: 80, limit: 'ScaleDownLimit' });
  });

  it('row B6: pods policy counts from the period start (100 − 15) + 150 → 235', () => {
    const r = rateLimit({ min: 1, max: 1000, current: 100, desired: 500, up: rules(150, 120, 0, 0, 0), upEvents: events([1, 5, 9], 120) });
    expect(r).toEqual({ replicas: 235, limit: 'ScaleUpLimit' });
  });

  it('row B7: a limit below the current count is raised to it (85 + 5 < 100) → 100', () => {
    const r = rateLimit({ min: 1, max: 1000, current: 100, desired: 500, up: rules(5, 120, 0, 0, 0), upEvents: events([1, 5, 9], 120) });
    expect(r).toEqual({ replicas: 100, limit: 'ScaleUpLimit' });
  });

  it('row B8: percent scale-down from the period start (100 + 12) − 50 % → 56', () => {
    const r = rateLimit({ min: 1, max: 1000, current: 100, desired: 0, down: rules(0, 0, 50, 120, 300), downEvents: events([2, 4, 6], 120) });
    expect(r).toEqual({ replicas: 56, limit: 'ScaleDownLimit' });
  });

  it('row B9: previous scale-downs prevent further scale-down (130 − 10 % = 117 > 100) → 100', () => {
    const r = rateLimit({ min: 1, max: 1000, current: 100, desired: 0, down: rules(0, 0, 10, 120, 300), downEvents: events([10, 10, 10], 120) });
    expect(r).toEqual({ replicas: 100, limit: 'ScaleDownLimit' });
  });

  it('row B10: scale-up limit with selectPolicy Min (+2 pods vs +50 %) → 2', () => {
    expect(scaleUpLimit(1, [], [], rules(2, 60, 50, 60, 0, 'Min'), NOW)).toBe(2);
  });

  it('row B11: scale-down limit with selectPolicy Min (−2 pods vs −50 % truncated) → 3', () => {
    expect(scaleDownLimit(5, [], [], rules(2, 60, 50, 60, 300, 'Min'), NOW)).toBe(3);
  });
});

describe('HPA stabilization (TestNormalizeDesiredReplicas*)', () => {
  const minutesAgo = (m: number) => NOW - m * 60;

  it('row S1: simple scale-down stabilization (window 180 s, recent 4 and 5) → 5', () => {
    const r = stabilizeWithBehavior({
      recommendations: [{ replicas: 4, time: minutesAgo(2) }, { replicas: 5, time: minutesAgo(1) }],
      current: 100,
      desired: 3,
      now: NOW,
      upWindowSeconds: 0,
      downWindowSeconds: 180,
    });
    expect(r.stabilized).toBe(5);
    expect(r.reason).toBe('ScaleDownStabilized');
  });

  it('row S2: simple scale-up stabilization (window 300 s, recent 4 and 5) → 4', () => {
    const r = stabilizeWithBehavior({
      recommendations: [{ replicas: 4, time: minutesAgo(2) }, { replicas: 5, time: minutesAgo(1) }],
      current: 1,
      desired: 7,
      now: NOW,
      upWindowSeconds: 300,
      downWindowSeconds: 300,
    });
    expect(r.stabilized).toBe(4);
    expect(r.reason).toBe('ScaleUpStabilized');
  });

  it('row S3: scale-up stabilization reuses the one obsolete slot → 5', () => {
    const r = stabilizeWithBehavior({
      recommendations: [
        { replicas: 10, time: minutesAgo(100) },
        { replicas: 6, time: minutesAgo(1) },
        { replicas: 5, time: minutesAgo(2) },
        { replicas: 9, time: minutesAgo(3) },
      ],
      current: 1,
      desired: 100,
      now: NOW,
      upWindowSeconds: 300,
      downWindowSeconds: 300,
    });
    expect(r.stabilized).toBe(5);
    expect(r.recommendations).toHaveLength(4);
    expect(r.recommendations[0]).toEqual({ replicas: 100, time: NOW });
  });
});

describe('HPA legacy normalization (no behavior)', () => {
  it('row L1: stabilize: the highest recommendation of the last 5 minutes (4, 5 over 3) → 5', () => {
    const r = stabilizeLegacy([{ replicas: 4, time: NOW - 120 }, { replicas: 5, time: NOW - 60 }], 3, NOW, CONTROLLER_DEFAULTS.downscaleStabilizationSeconds);
    expect(r.stabilized).toBe(5);
    expect(r.recommendations).toHaveLength(3);
  });

  it('row L2: scaleUpLimit is the limit because max(2 × 3, 4) < maxReplicas → 6 ScaleUpLimit', () => {
    expect(clampLegacy(3, 1000, 1, 2000)).toEqual({ replicas: 6, limit: 'ScaleUpLimit' });
  });
});
