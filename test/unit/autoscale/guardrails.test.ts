import { describe, expect, it } from 'vitest';
import { gatesFor, type GatewayDisk } from '../../../src/chaos/watermark.ts';
import { AutoscaleController } from '../../../src/autoscale/controller.ts';
import { applyGuardrails, emptyGuardrailState, type GuardrailConfig, type GuardrailSignals, type GuardrailState } from '../../../src/autoscale/guardrails.ts';
import type { HpaSpec } from '../../../src/autoscale/hpa/types.ts';

/** A gateway's disk with the gates of its capacity tier (1 TB or 2 TB), as the probes report them. */
function disk(gateway: string, ratio: number, terabytes: 1 | 2 = 1): GatewayDisk {
  const { yellow, red } = gatesFor(terabytes * 1e12);
  return { gateway, az: 'az-a', ratio, yellow, red, diskOk: ratio < yellow };
}

const ALL_CLEAR: GuardrailSignals = { degradedGateways: [], disks: [disk('gw-1', 0.5), disk('gw-2', 0.6)], canaryActive: false };

/** Runs a sequence of guardrail windows, each asking to go from `current` to `desired`. */
function windows(config: GuardrailConfig, steps: { signals?: GuardrailSignals; current: number; desired: number; min?: number }[]) {
  let state: GuardrailState = emptyGuardrailState();
  return steps.map((s) => {
    const r = applyGuardrails(config, state, s.signals, { current: s.current, desired: s.desired, minReplicas: s.min ?? 2 });
    state = r.state;
    return r;
  });
}

describe('degraded guardrail', () => {
  it('blocks scale-up only once the same gateway reported degraded for two consecutive windows', () => {
    const degraded = { ...ALL_CLEAR, degradedGateways: ['gw-2'] };
    const [first, second] = windows({}, [
      { signals: degraded, current: 3, desired: 5 },
      { signals: degraded, current: 3, desired: 5 },
    ]);
    expect(first).toMatchObject({ desired: 5, held: [] });
    expect(second?.desired).toBe(3);
    expect(second?.held).toEqual([{ guardrail: 'degraded', wanted: 5, allowed: 3, detail: 'degraded for 2+ windows: gw-2' }]);
  });

  it('a clean window in between resets the count', () => {
    const degraded = { ...ALL_CLEAR, degradedGateways: ['gw-2'] };
    const results = windows({}, [
      { signals: degraded, current: 3, desired: 5 },
      { signals: ALL_CLEAR, current: 3, desired: 5 },
      { signals: degraded, current: 3, desired: 5 },
    ]);
    expect(results.map((r) => r.desired)).toEqual([5, 5, 5]);
  });

  it('does not block a scale-down, and is not reported when it held nothing', () => {
    const degraded = { ...ALL_CLEAR, degradedGateways: ['gw-1'] };
    const results = windows({}, [
      { signals: degraded, current: 5, desired: 4 },
      { signals: degraded, current: 5, desired: 3 },
    ]);
    expect(results.map((r) => [r.desired, r.held.length])).toEqual([
      [4, 0],
      [3, 0],
    ]);
  });

  it('can be switched off', () => {
    const degraded = { ...ALL_CLEAR, degradedGateways: ['gw-2'] };
    const results = windows({ degraded: false }, [
      { signals: degraded, current: 3, desired: 5 },
      { signals: degraded, current: 3, desired: 5 },
    ]);
    expect(results[1]).toMatchObject({ desired: 5, held: [] });
  });
});

describe('disk watermark guardrail (chaos/watermark gates)', () => {
  it('yellow (82 % on a 1 TB gateway, 78 % on a 2 TB one) blocks scale-up', () => {
    const [oneTb, twoTb] = windows({}, [
      { signals: { ...ALL_CLEAR, disks: [disk('gw-1', 0.82), disk('gw-2', 0.5)] }, current: 3, desired: 6 },
      { signals: { ...ALL_CLEAR, disks: [disk('gw-1', 0.78, 2), disk('gw-2', 0.5)] }, current: 3, desired: 6 },
    ]);
    expect(oneTb).toMatchObject({ desired: 3, held: [{ guardrail: 'disk-yellow', wanted: 6, allowed: 3 }] });
    expect(twoTb).toMatchObject({ desired: 3, held: [{ guardrail: 'disk-yellow' }] });
  });

  it('just below the gate does not block', () => {
    const [r] = windows({}, [{ signals: { ...ALL_CLEAR, disks: [disk('gw-1', 0.819)] }, current: 3, desired: 6 }]);
    expect(r).toMatchObject({ desired: 6, held: [] });
  });

  it('red (90 %) scales to the minimum, and never raises', () => {
    const red = { ...ALL_CLEAR, disks: [disk('gw-1', 0.9), disk('gw-2', 0.4)] };
    const [up, down, below] = windows({}, [
      { signals: red, current: 6, desired: 8, min: 2 },
      { signals: red, current: 6, desired: 5, min: 2 },
      { signals: red, current: 1, desired: 0, min: 2 },
    ]);
    expect(up).toMatchObject({ desired: 2, held: [{ guardrail: 'disk-red', wanted: 8, allowed: 2 }] });
    expect(down).toMatchObject({ desired: 2, held: [{ guardrail: 'disk-red', wanted: 5, allowed: 2 }] });
    expect(below).toMatchObject({ desired: 0, held: [] });
  });

  it('no disks reported is "no data", not "ok"', () => {
    const [r] = windows({}, [{ signals: { degradedGateways: [], disks: [] }, current: 3, desired: 6 }]);
    expect(r).toMatchObject({ desired: 6, held: [], noData: ['disk'] });
  });

  it('can be switched off', () => {
    const [r] = windows({ disk: false }, [{ signals: { ...ALL_CLEAR, disks: [disk('gw-1', 0.95)] }, current: 3, desired: 6 }]);
    expect(r).toMatchObject({ desired: 6, held: [], noData: [] });
  });
});

describe('canary cap', () => {
  it('caps the count while a canary is active, and only then', () => {
    const [active, inactive] = windows({ canaryMaxReplicas: 4 }, [
      { signals: { ...ALL_CLEAR, canaryActive: true }, current: 3, desired: 7 },
      { signals: { ...ALL_CLEAR, canaryActive: false }, current: 3, desired: 7 },
    ]);
    expect(active).toMatchObject({ desired: 4, held: [{ guardrail: 'canary-cap', wanted: 7, allowed: 4 }] });
    expect(inactive).toMatchObject({ desired: 7, held: [] });
  });

  it('an unknown canary state is no data', () => {
    const [r] = windows({ canaryMaxReplicas: 4 }, [{ signals: { degradedGateways: [], disks: ALL_CLEAR.disks }, current: 3, desired: 7 }]);
    expect(r).toMatchObject({ desired: 7, noData: ['canary'] });
  });
});

describe('guardrails in the controller', () => {
  const hpa: HpaSpec = {
    name: 'gw',
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [{ type: 'External', key: 'external/queue', metricName: 'queue', target: { type: 'AverageValue', averageValue: 8000 } }],
    behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 10, periodSeconds: 15 }], tolerance: null }, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: null } },
  };

  it('reports the guardrail as a condition and in the reason, and records only the applied change', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa });
    const degraded = { ...ALL_CLEAR, degradedGateways: ['gw-3'] };
    c.sync({ time: 0, replicas: 3, metrics: { 'external/queue': { values: [24] } }, guardrails: degraded });
    const held = c.sync({ time: 15, replicas: 3, metrics: { 'external/queue': { values: [48] } }, guardrails: degraded });
    expect(held).toMatchObject({ hpaDesired: 6, desiredReplicas: 3, guardrails: [{ guardrail: 'degraded' }] });
    expect(held.conditions).toContain('GuardrailDegraded');
    expect(held.reason).toMatch(/^hold at 3: .*guardrail degraded: degraded for 2\+ windows: gw-3 \(wanted 6\)/);
    expect(c.snapshot().normalization.scaleUpEvents).toEqual([]);
    const released = c.sync({ time: 30, replicas: 3, metrics: { 'external/queue': { values: [48] } }, guardrails: ALL_CLEAR });
    expect(released).toMatchObject({ desiredReplicas: 6, guardrails: [] });
    expect(c.snapshot().normalization.scaleUpEvents).toEqual([{ change: 3, time: 30, outdated: false }]);
  });

  it('lists enabled guardrails without a signal', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa }, { guardrails: { canaryMaxReplicas: 5 } });
    const d = c.sync({ time: 0, replicas: 3, metrics: { 'external/queue': { values: [24] } } });
    expect(d.guardrailsNoData).toEqual(['degraded', 'disk', 'canary']);
    expect(d.reason).toMatch(/no data for guardrail degraded, disk, canary/);
  });
});
