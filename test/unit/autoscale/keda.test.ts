import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { AutoscaleController, type Decision, type SyncInput } from '../../../src/autoscale/controller.ts';
import { emptyKedaState, hpaForScaledObject, kedaHpaSamples, kedaPoll, type KedaState, type TriggerSample } from '../../../src/autoscale/keda/keda.ts';
import { readPrometheusAnswer, type PrometheusTriggerConfig } from '../../../src/autoscale/keda/prometheus-scaler.ts';
import { parseScaledObjectYaml, type ScaledObjectSpec } from '../../../src/autoscale/keda/scaledobject.ts';

const KEDA_TEXT = fs.readFileSync(path.join(import.meta.dirname, '../../fixtures/autoscale/keda-queue-depth.yaml'), 'utf8');

/** The fixture with edits: e.g. a different fallback, more triggers, modifiers. */
function scaledObject(edit: (doc: Record<string, any>) => void = () => {}): ScaledObjectSpec {
  const doc = YAML.parse(KEDA_TEXT) as Record<string, any>;
  edit(doc);
  return parseScaledObjectYaml(YAML.stringify(doc));
}

/** A Prometheus instant-query answer with one series per value. */
function vector(...values: (string | null)[]): unknown {
  return { status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { series: String(i) }, value: [1_700_000_000, v] })) } };
}
const queue = (v: string | null): Record<string, TriggerSample> => ({ queue_depth: { prometheus: vector(v) } });
const failing: Record<string, TriggerSample> = { queue_depth: { error: 'prometheus query api returned error. status: 503' } };

const PROM: PrometheusTriggerConfig = { serverAddress: 'http://p', query: 'sum(q)', threshold: 8, activationThreshold: 5, ignoreNullValues: true };

describe('Prometheus scaler', () => {
  it('reads the one series, rounds the metric to milli-units', () => {
    expect(readPrometheusAnswer(PROM, vector('12.34567'))).toEqual({ ok: true, value: 12.34567, metricMilli: 12346, active: true });
  });

  it('activation is strictly greater than activationThreshold', () => {
    expect(readPrometheusAnswer(PROM, vector('5'))).toMatchObject({ ok: true, active: false });
    expect(readPrometheusAnswer(PROM, vector('5.001'))).toMatchObject({ ok: true, active: true });
  });

  it('more than one series is an error', () => {
    expect(readPrometheusAnswer(PROM, vector('1', '2'))).toEqual({ ok: false, error: 'prometheus query sum(q) returned multiple elements' });
  });

  it('an empty result is 0 with ignoreNullValues (the default), an error without', () => {
    expect(readPrometheusAnswer(PROM, vector())).toEqual({ ok: true, value: 0, metricMilli: 0, active: false });
    const strict = readPrometheusAnswer({ ...PROM, ignoreNullValues: false }, vector());
    expect(strict).toEqual({ ok: false, error: "prometheus metrics 'prometheus' target may be lost, the result is empty" });
  });

  it.each(['NaN', '+Inf', '-Inf'])('%s is 0 with ignoreNullValues, an error without', (v) => {
    expect(readPrometheusAnswer(PROM, vector(v))).toEqual({ ok: true, value: 0, metricMilli: 0, active: false });
    expect(readPrometheusAnswer({ ...PROM, ignoreNullValues: false }, vector(v))).toEqual({ ok: false, error: `prometheus query returns ${v}` });
  });

  it('a sample without a value list is treated like an empty result', () => {
    const answer = { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [] }] } };
    expect(readPrometheusAnswer(PROM, answer)).toMatchObject({ ok: true, value: 0 });
    expect(readPrometheusAnswer({ ...PROM, ignoreNullValues: false }, answer)).toMatchObject({ ok: false });
  });

  it('a negative value is clamped to 0 for the HPA and does not activate', () => {
    expect(readPrometheusAnswer({ ...PROM, activationThreshold: -10 }, vector('-3'))).toEqual({ ok: true, value: -3, metricMilli: 0, active: true });
    expect(readPrometheusAnswer(PROM, vector('-3'))).toEqual({ ok: true, value: -3, metricMilli: 0, active: false });
  });

  it('an error answer or a scalar result is an error', () => {
    expect(readPrometheusAnswer(PROM, { status: 'error', errorType: 'bad_data', error: 'parse error' })).toEqual({ ok: false, error: 'prometheus query api returned error: parse error' });
    expect(readPrometheusAnswer(PROM, { status: 'success', data: { resultType: 'scalar', result: [1, '2'] } })).toMatchObject({ ok: false });
  });
});

/** Feeds syncs and applies each decision, as a live loop would. */
function drive(controller: AutoscaleController, start: number, steps: { time: number; triggers: Record<string, TriggerSample> }[]): Decision[] {
  let replicas = start;
  return steps.map((step) => {
    const input: SyncInput = { time: step.time, replicas, triggers: step.triggers };
    const d = controller.sync(input);
    replicas = d.desiredReplicas;
    return d;
  });
}

const every = (from: number, to: number, step: number, triggers: Record<string, TriggerSample>) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => ({ time: from + i * step, triggers }));

describe('KEDA activation and cooldown', () => {
  it('activates 0 → 1 when a trigger is active; the HPA takes over from its next sync', () => {
    const c = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    const [first, second] = drive(c, 0, [
      { time: 0, triggers: queue('20') },
      { time: 15, triggers: queue('20') },
    ]);
    expect(first).toMatchObject({ desiredReplicas: 1, loops: ['keda'], keda: { active: true, action: 'activated' } });
    expect(first?.conditions).toContain('KedaActivated');
    // 20 pending jobs at 8 per replica: ceil(20 / 8) = 3.
    expect(second).toMatchObject({ currentReplicas: 1, desiredReplicas: 3, loops: ['keda', 'hpa'], recommendation: 3 });
  });

  it('does not activate at a value equal to activationThreshold', () => {
    const c = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    const [d] = drive(c, 0, [{ time: 0, triggers: queue('0') }]);
    expect(d).toMatchObject({ desiredReplicas: 0, keda: { active: false, action: 'inactive' } });
  });

  it('cooldown only governs the way to zero: the HPA scales 3 → 1, KEDA takes 1 → 0 once cooldownPeriod has passed', () => {
    const so = scaledObject((d) => (d.spec.pollingInterval = 30));
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const decisions = drive(c, 3, [{ time: 0, triggers: queue('20') }, ...every(15, 300, 15, queue('0'))]);
    const at = (t: number) => decisions.find((d) => d.time === t)!;
    // Last active at t=0, cooldown 120 s: still cooling at the poll at t=120, deactivated at t=150.
    expect(at(120).conditions).toContain('KedaCooldown');
    expect(at(150)).toMatchObject({ desiredReplicas: 0, keda: { action: 'deactivated' } });
    expect(at(150).conditions).toContain('KedaDeactivated');
    // Before that, the HPA (minReplicas 1) never went below 1.
    for (const d of decisions.filter((x) => x.time < 150)) expect(d.desiredReplicas).toBeGreaterThanOrEqual(1);
    expect(at(135).desiredReplicas).toBe(1);
  });

  it('with idleReplicaCount, goes to the idle count when inactive and back to minReplicaCount when active', () => {
    const so = scaledObject((d) => Object.assign(d.spec, { minReplicaCount: 2, idleReplicaCount: 0, pollingInterval: 30 }));
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const decisions = drive(c, 2, [{ time: 0, triggers: queue('4') }, ...every(30, 180, 30, queue('0')), { time: 210, triggers: queue('4') }]);
    const deactivated = decisions.find((d) => d.keda?.action === 'deactivated');
    expect(deactivated).toMatchObject({ time: 150, desiredReplicas: 0 });
    expect(decisions.at(-1)).toMatchObject({ time: 210, currentReplicas: 0, desiredReplicas: 2, keda: { action: 'activated' } });
  });

  it('with minReplicaCount above 0 and no idle count, KEDA never goes below it', () => {
    const so = scaledObject((d) => Object.assign(d.spec, { minReplicaCount: 2, pollingInterval: 30 }));
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const decisions = drive(c, 2, every(0, 600, 30, queue('0')));
    expect(decisions.every((d) => d.desiredReplicas === 2)).toBe(true);
    expect(decisions.some((d) => d.keda?.action === 'deactivated')).toBe(false);
  });

  it('a trigger error without fallback is reported, and KEDA does not scale on it', () => {
    const so = scaledObject((d) => delete d.spec.fallback);
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const [d] = drive(c, 2, [{ time: 0, triggers: { queue_depth: { prometheus: vector('1', '2') } } }]);
    expect(d?.keda).toMatchObject({ active: false, action: 'trigger-error' });
    expect(d?.keda?.error).toMatch(/returned multiple elements/);
    expect(d?.conditions).toEqual(expect.arrayContaining(['KedaTriggerError', 'MetricsUnavailable']));
    expect(d?.desiredReplicas).toBe(2);
  });

  it('ignoreNullValues: an empty answer reads as 0 (inactive, no error); with ignoreNullValues "false" it is an error', () => {
    const lenient = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    expect(drive(lenient, 0, [{ time: 0, triggers: { queue_depth: { prometheus: vector() } } }])[0]).toMatchObject({ keda: { active: false, action: 'inactive', error: null } });
    const so = scaledObject((d) => {
      d.spec.triggers[0].metadata.ignoreNullValues = 'false';
      delete d.spec.fallback;
    });
    const strict = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const [d] = drive(strict, 0, [{ time: 0, triggers: { queue_depth: { prometheus: vector() } } }]);
    expect(d?.keda?.error).toMatch(/the result is empty/);
  });

  it('does not scale to zero on errors while a non-zero fallback is configured', () => {
    const c = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    const decisions = drive(c, 2, every(0, 300, 15, failing));
    // Before the fallback is reached (failures counted by both loops) KEDA waits instead of deactivating.
    expect(decisions.slice(0, 2).map((d) => d.keda?.action)).toEqual(['fallback-pending', 'fallback-pending']);
    expect(decisions.every((d) => d.desiredReplicas > 0)).toBe(true);
  });
});

const CTX = { now: 0, specReplicas: 2, readyPods: 2 };

/** Counts failures through the HPA path only, returning the sample served at each call. */
function serveRepeatedly(so: ScaledObjectSpec, inputs: Record<string, TriggerSample>[], ctx = CTX) {
  let state: KedaState = emptyKedaState();
  return inputs.map((input, i) => {
    const served = kedaHpaSamples(so, state, input, { ...ctx, now: i * 15 });
    state = served.state;
    return served.samples;
  });
}

describe('KEDA fallback', () => {
  it('keeps reporting the error up to failureThreshold failures, then serves fallback.replicas × threshold', () => {
    const served = serveRepeatedly(scaledObject(), [failing, failing, failing, failing]);
    expect(served.slice(0, 3).map((s) => 'error' in s.queue_depth!)).toEqual([true, true, true]);
    expect(served[3]?.queue_depth).toEqual({ values: [32] }); // 4 replicas × 8
  });

  it('a success resets the count', () => {
    const served = serveRepeatedly(scaledObject(), [failing, failing, failing, queue('1'), failing, failing, failing, failing]);
    expect(served[3]?.queue_depth).toEqual({ values: [1] });
    expect('error' in served[6]!.queue_depth!).toBe(true);
    expect(served[7]?.queue_depth).toEqual({ values: [32] });
  });

  it.each([
    ['static', 6, 4 * 8],
    ['currentReplicas', 6, 6 * 8],
    ['currentReplicasIfHigher', 6, 6 * 8],
    ['currentReplicasIfHigher', 2, 4 * 8],
    ['currentReplicasIfLower', 2, 2 * 8],
    ['currentReplicasIfLower', 6, 4 * 8],
  ])('behavior %s with %i current replicas serves %i', (behavior, current, expected) => {
    const so = scaledObject((d) => (d.spec.fallback = { failureThreshold: 1, replicas: 4, behavior }));
    const served = serveRepeatedly(so, [failing, failing], { now: 0, specReplicas: current, readyPods: current });
    expect('error' in served[0]!.queue_depth!).toBe(true);
    expect(served[1]?.queue_depth).toEqual({ values: [expected] });
  });

  it('a Value-type fallback divides by the ready pods, so the HPA lands on fallback.replicas', () => {
    const so = scaledObject((d) => {
      d.spec.triggers[0].metricType = 'Value';
      d.spec.fallback.failureThreshold = 0;
    });
    const served = serveRepeatedly(so, [failing], { now: 0, specReplicas: 2, readyPods: 2 });
    expect(served[0]?.queue_depth).toEqual({ values: [16] }); // 4 / 2 ready × 8
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const d = c.sync({ time: 0, replicas: 2, readyReplicas: 2, triggers: failing });
    expect(d).toMatchObject({ recommendation: 4, conditions: expect.arrayContaining(['KedaFallback']) });
  });

  it('both loops count failures: with failureThreshold 3 the fallback is in use by the second poll', () => {
    const so = scaledObject((d) => (d.spec.pollingInterval = 30));
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    const decisions = drive(c, 2, every(0, 45, 15, failing));
    // Failures: poll@0 (1), hpa@0 (2), hpa@15 (3), poll@30 (4 > 3): fallback from t=30.
    expect(decisions.map((d) => d.keda?.fallbackActive ?? null)).toEqual([false, null, true, null]);
    expect(decisions.find((d) => d.time === 30)).toMatchObject({ recommendation: 4, desiredReplicas: 4 });
  });

  it('behavior scalingModifiers: a failed trigger is nil in the formula, and ?? supplies its value', () => {
    const so = scaledObject((d) => {
      d.spec.triggers.push({ type: 'prometheus', name: 'ws', metadata: { serverAddress: 'http://p:9090', query: 'sum(ws)', threshold: '100' } });
      d.spec.fallback = { failureThreshold: 1, replicas: 3, behavior: 'scalingModifiers' };
      d.spec.advanced.scalingModifiers = { formula: '(queue_depth ?? 16) + (ws ?? 0) / 25', target: '8' };
    });
    const input = (q: TriggerSample): Record<string, TriggerSample> => ({ queue_depth: q, ws: { prometheus: vector('100') } });
    const served = serveRepeatedly(so, [input(failing.queue_depth!), input(failing.queue_depth!), input({ prometheus: vector('4') })]);
    expect(served[0]?.['composite-metric']).toMatchObject({ error: expect.stringMatching(/encountered error/) });
    expect(served[1]?.['composite-metric']).toEqual({ values: [16 + 4] });
    expect(served[2]?.['composite-metric']).toEqual({ values: [4 + 4] });
  });

  it('a formula that yields nil falls back to fallback.replicas × target', () => {
    const so = scaledObject((d) => {
      d.spec.fallback = { failureThreshold: 0, replicas: 3, behavior: 'scalingModifiers' };
      d.spec.advanced.scalingModifiers = { formula: 'queue_depth ?? nil', target: '8' };
    });
    expect(serveRepeatedly(so, [failing])[0]?.['composite-metric']).toEqual({ values: [24] });
  });
});

describe('KEDA scalingModifiers and metric types', () => {
  it('the composite metric activates only strictly above activationTarget', () => {
    const so = scaledObject((d) => (d.spec.advanced.scalingModifiers = { formula: 'queue_depth * 2', target: '8', activationTarget: '10' }));
    const at = (v: string) => kedaPoll(so, emptyKedaState(), queue(v), { now: 0, specReplicas: 0, readyPods: 0 });
    expect(at('5')).toMatchObject({ composite: 10, active: false, desired: null });
    expect(at('5.5')).toMatchObject({ composite: 11, active: true, desired: 1 });
  });

  it('AverageValue divides the total by the target; Value multiplies the ratio by the ready pods', () => {
    const average = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    expect(average.sync({ time: 0, replicas: 2, triggers: queue('30') })).toMatchObject({ recommendation: 4 }); // ceil(30 / 8)
    const value = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject((d) => (d.spec.triggers[0].metricType = 'Value')) });
    expect(value.sync({ time: 0, replicas: 2, triggers: queue('30') })).toMatchObject({ recommendation: 8 }); // ceil(30 / 8 × 2)
    expect(hpaForScaledObject(scaledObject((d) => (d.spec.triggers[0].metricType = 'Value'))).metrics[0]?.target).toEqual({ type: 'Value', value: 8000 });
  });

  it('advanced.horizontalPodAutoscalerConfig.behavior reaches the HPA: scale-down limited to 50 % per minute', () => {
    const c = new AutoscaleController({ kind: 'keda', scaledObject: scaledObject() });
    // At 8 replicas with 8 pending jobs the HPA wants 1; the fixture's window is 120 s.
    const decisions = drive(c, 8, every(0, 180, 15, queue('8')));
    const firstDown = decisions.find((d) => d.desiredReplicas < d.currentReplicas);
    // The first sync's own recommendation (8, at t=0) leaves the 120 s window at t=120 (the window
    // excludes its cutoff), and the policy allows half per minute.
    expect(firstDown).toMatchObject({ time: 120, currentReplicas: 8, desiredReplicas: 4, limit: 'ScaleDownLimit' });
    expect(decisions.find((d) => d.time === 180)).toMatchObject({ currentReplicas: 4, desiredReplicas: 2 });
  });

  it('useCachedMetrics serves the HPA the last poll reading', () => {
    const so = scaledObject((d) => {
      d.spec.triggers[0].useCachedMetrics = true;
      d.spec.pollingInterval = 30;
    });
    const c = new AutoscaleController({ kind: 'keda', scaledObject: so });
    c.sync({ time: 0, replicas: 2, triggers: queue('16') });
    // At t=15 only the HPA runs; the new answer (80) is ignored in favour of the cached 16.
    expect(c.sync({ time: 15, replicas: 2, triggers: queue('80') })).toMatchObject({ loops: ['hpa'], recommendation: 2 });
  });
});
