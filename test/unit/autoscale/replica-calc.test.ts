// Replica-calculation rules beyond the golden vectors: the CPU readiness rule with start times,
// container requests, Resource AverageValue, External sums, and milli-unit conversion.
import { describe, expect, it } from 'vitest';
import { CONTROLLER_DEFAULTS } from '../../../src/autoscale/hpa/defaults.ts';
import { computeReplicasForMetrics, type MetricContext } from '../../../src/autoscale/hpa/metrics.ts';
import type { MetricSample, MetricSpec, PodInfo } from '../../../src/autoscale/hpa/types.ts';
import { floatToMilli, kedaMilli, quantityToMilli } from '../../../src/autoscale/quantity.ts';

const NOW = 10_000;

function ctx(pods: PodInfo[], current = pods.length): MetricContext {
  return { now: NOW, specReplicas: current, statusReplicas: current, readyPods: current, pods, tolerances: { scaleDown: 0.1, scaleUp: 0.1 }, options: CONTROLLER_DEFAULTS };
}

function one(metric: MetricSpec, sample: MetricSample, context: MetricContext) {
  return computeReplicasForMetrics([metric], { [metric.key]: sample }, context);
}

const cpu50: MetricSpec = { type: 'Resource', key: 'resource/cpu', resource: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } };

describe('CPU readiness with start and Ready-transition times', () => {
  // Two pods at 100 % of a 1-core request; pod-b is new.
  const sample: MetricSample = { perPod: { 'pod-a': 1, 'pod-b': 1 }, timestamp: NOW };
  const old: PodInfo = { name: 'pod-a', requests: { cpu: 1 }, startTime: NOW - 3600, readyTransitionTime: NOW - 3500 };

  it('a pod inside the initialisation period whose sample predates ready + one window is left out, then added back at 0', () => {
    const fresh: PodInfo = { name: 'pod-b', requests: { cpu: 1 }, startTime: NOW - 60, readyTransitionTime: NOW - 5 };
    // pod-a alone is at 200 % of target; pod-b added back at 0 makes it 100 % → ratio 1: hold at 2.
    expect(one(cpu50, sample, ctx([old, fresh])).replicas).toBe(2);
  });

  it('the same pod once its sample is a window past the transition counts fully', () => {
    const settled: PodInfo = { name: 'pod-b', requests: { cpu: 1 }, startTime: NOW - 60, readyTransitionTime: NOW - 30 };
    // Both at 200 % of target: ceil(2 × 2) = 4.
    expect(one(cpu50, sample, ctx([old, settled])).replicas).toBe(4);
    const both = one(cpu50, { perPod: { 'pod-a': 1, 'pod-b': 0.2 }, timestamp: NOW }, ctx([old, settled]));
    // (1 + 0.2) / 2 cores = 60 % vs 50 %: ceil(1.2 × 2) = 3 (pod-b's sample counted).
    expect(both.replicas).toBe(3);
  });

  it('after the initialisation period, an unready pod that was never ready is left out; one that was ready counts', () => {
    const neverReady: PodInfo = { name: 'pod-b', requests: { cpu: 1 }, ready: false, startTime: NOW - 600, readyTransitionTime: NOW - 590 };
    const wasReady: PodInfo = { name: 'pod-b', requests: { cpu: 1 }, ready: false, startTime: NOW - 600, readyTransitionTime: NOW - 100 };
    const cpu10: MetricSpec = { ...cpu50, target: { type: 'Utilization', averageUtilization: 10 } };
    const s: MetricSample = { perPod: { 'pod-a': 0.2, 'pod-b': 0.6 } };
    // Never ready: only pod-a's 20 % is read (the status shows it), and pod-b added back at 0
    // brings the ratio to 1: hold at 2.
    expect(one(cpu10, s, ctx([old, neverReady]))).toMatchObject({ replicas: 2, outcomes: [{ current: 20 }] });
    // Was ready before: its sample counts, (20 % + 60 %) / 2 = 40 % vs 10 % → ceil(4 × 2) = 8.
    expect(one(cpu10, s, ctx([old, wasReady]))).toMatchObject({ replicas: 8, outcomes: [{ current: 40 }] });
  });
});

describe('Resource variants', () => {
  it('ContainerResource uses the named container request', () => {
    const metric: MetricSpec = { type: 'ContainerResource', key: 'container-resource/gateway/cpu', resource: 'cpu', container: 'gateway', target: { type: 'Utilization', averageUtilization: 50 } };
    const pods: PodInfo[] = ['a', 'b'].map((n) => ({ name: n, containerRequests: { gateway: { cpu: 0.5 }, sidecar: { cpu: 0.5 } } }));
    // 0.5 of a 0.5-core container = 100 % vs 50 % → 4.
    expect(one(metric, { perPod: { a: 0.5, b: 0.5 } }, ctx(pods)).replicas).toBe(4);
    const noContainer = one({ ...metric, container: 'missing' }, { perPod: { a: 0.5, b: 0.5 } }, ctx(pods));
    expect(noContainer).toMatchObject({ replicas: null, outcomes: [{ error: 'container missing not found in Pod a' }] });
  });

  it('a Resource metric without requests on the pods is an error naming the pod', () => {
    const r = one(cpu50, { perPod: { a: 0.5 } }, ctx([{ name: 'a' }]));
    expect(r.outcomes[0]?.error).toBe('missing request for cpu in Pod a');
  });

  it('Resource with an AverageValue target averages raw usage', () => {
    const memory: MetricSpec = { type: 'Resource', key: 'resource/memory', resource: 'memory', target: { type: 'AverageValue', averageValue: quantityToMilli('512Mi')! } };
    const gib = 1024 ** 3;
    expect(one(memory, { perPod: { a: gib, b: gib } }, ctx([{ name: 'a' }, { name: 'b' }])).replicas).toBe(4);
  });
});

describe('External metrics', () => {
  const queue: MetricSpec = { type: 'External', key: 'external/q', metricName: 'q', target: { type: 'AverageValue', averageValue: 8000 } };

  it('sums the selected series', () => {
    expect(one(queue, { values: [10, 14] }, ctx([], 2)).replicas).toBe(3);
  });

  it('no series is an error, not a zero', () => {
    expect(one(queue, { values: [] }, ctx([], 2))).toMatchObject({ replicas: null, outcomes: [{ error: 'no metrics returned from external metrics API for external/q' }] });
  });

  it('a missing sample is an error, not a zero', () => {
    expect(computeReplicasForMetrics([queue], {}, ctx([], 2))).toMatchObject({ replicas: null, outcomes: [{ error: 'no sample for metric external/q' }] });
  });

  it('a Value target with no pods at all is an error, as the pod lister finds none', () => {
    const value: MetricSpec = { ...queue, target: { type: 'Value', value: 8000 } };
    const context = { ...ctx([], 2), statusReplicas: 0, readyPods: 0 };
    expect(one(value, { values: [40] }, context).outcomes[0]?.error).toMatch(/no pods returned by selector/);
  });
});

describe('milli-units', () => {
  it.each([
    ['500m', 500],
    ['0.57', 570],
    ['1.5k', 1_500_000],
    ['2Gi', 2 * 1024 ** 3 * 1000],
    ['1e3', 1_000_000],
    ['0.0001', 1], // ceil, as Quantity.MilliValue()
    [20, 20_000],
  ])('quantity %j is %i milli', (q, milli) => {
    expect(quantityToMilli(q)).toBe(milli);
  });

  it('refuses what is not a quantity', () => {
    for (const q of ['abc', '1Z', '', '5 m']) expect(quantityToMilli(q)).toBeUndefined();
  });

  it('float samples truncate like metrics adapters, without binary-float slips', () => {
    expect(floatToMilli(0.57)).toBe(570);
    expect(floatToMilli(31.6669)).toBe(31666);
  });

  it("KEDA's metric quantities round to milli and clamp negatives, NaN and ±Inf to 0", () => {
    expect(kedaMilli(1.23456)).toBe(1235);
    expect([kedaMilli(-2), kedaMilli(NaN), kedaMilli(Infinity)]).toEqual([0, 0, 0]);
  });
});
