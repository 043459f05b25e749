import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoscaleController, type AutoscalerSource, type ControllerOptions, type Decision, type SyncInput } from '../../../src/autoscale/controller.ts';
import { parseHpaYaml } from '../../../src/autoscale/hpa/spec.ts';
import type { HpaSpec, PodInfo } from '../../../src/autoscale/hpa/types.ts';
import { parseScaledObjectYaml } from '../../../src/autoscale/keda/scaledobject.ts';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/autoscale');
const HPA = parseHpaYaml(fs.readFileSync(path.join(FIXTURES, 'hpa-ws-connections.yaml'), 'utf8'));
const SO = parseScaledObjectYaml(fs.readFileSync(path.join(FIXTURES, 'keda-queue-depth.yaml'), 'utf8'));

const WS = 'pods/openclaw_ws_connections_active';
const CPU = 'resource/cpu';

function gateways(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({ name: `gw-${i}`, requests: { cpu: 1 } }));
}

/** One sync of the fixture HPA: `ws` connections per gateway (null: no sample), CPU at 20 %. */
function wsSync(time: number, replicas: number, ws: (number | null)[] | number, extra: Partial<SyncInput> = {}): SyncInput {
  const pods = gateways(replicas);
  const perPodWs: Record<string, number | null> = {};
  const perPodCpu: Record<string, number | null> = {};
  pods.forEach((p, i) => {
    perPodWs[p.name] = Array.isArray(ws) ? (ws[i] ?? null) : ws;
    perPodCpu[p.name] = 0.2;
  });
  return { time, replicas, pods, metrics: { [WS]: { perPod: perPodWs }, [CPU]: { perPod: perPodCpu } }, guardrails: { degradedGateways: [], disks: [] }, ...extra };
}

/** A live-like loop: each decision is applied before the next sync. */
function run(source: AutoscalerSource, make: (time: number, replicas: number) => SyncInput, times: number[], start: number, options?: ControllerOptions): Decision[] {
  const c = new AutoscaleController(source, options);
  let replicas = start;
  return times.map((t) => {
    const d = c.sync(make(t, replicas));
    replicas = d.desiredReplicas;
    return d;
  });
}

const log = (decisions: Decision[]) => decisions.map((d) => JSON.stringify(d)).join('\n');
const ticks = (n: number, step = 15) => Array.from({ length: n }, (_, i) => i * step);

describe('the fixture HPA over a load ramp', () => {
  // WebSocket connections grow to 2400 over 5 minutes, then drain; spread over the live replicas.
  const load = (t: number) => (t <= 300 ? 600 + 6 * t : Math.max(0, 2400 - 8 * (t - 300)));
  const make = (t: number, replicas: number) => wsSync(t, replicas, Math.round(load(t) / replicas));

  it('holds the first scale-up for the 60 s window, then follows the lowest recommendation of the last minute (and lags a steady ramp)', () => {
    const decisions = run({ kind: 'hpa', hpa: HPA }, make, ticks(41), 3);
    const at = (t: number) => decisions.find((d) => d.time === t)!;
    expect(at(0)).toMatchObject({ currentReplicas: 3, desiredReplicas: 3, recommendation: 3 });
    // 780 connections over 3 replicas at 200 each: 4 wanted; the first sync's recommendation (3)
    // holds the scale-up until it leaves the 60 s window.
    expect(at(30)).toMatchObject({ recommendation: 4, desiredReplicas: 3, conditions: ['ScaleUpStabilized', 'DesiredWithinRange'] });
    expect(at(60)).toMatchObject({ currentReplicas: 3, recommendation: 5, desiredReplicas: 4 });
    // The definition, checked at every scale-up: never above the lowest recommendation in (t − 60, t].
    for (const d of decisions.filter((x) => x.desiredReplicas > x.currentReplicas)) {
      const window = decisions.filter((x) => x.time > d.time - 60 && x.time <= d.time).map((x) => x.recommendation ?? Infinity);
      expect(d.desiredReplicas).toBeLessThanOrEqual(Math.min(...window));
    }
    // At the peak, 2400 connections on 11 replicas are 218 per pod: 9 % over target, inside the
    // 10 % tolerance, so no 12th replica.
    expect(at(300)).toMatchObject({ currentReplicas: 11, recommendation: 11, desiredReplicas: 11 });
    expect(at(300).metrics[0]).toEqual({ key: WS, proposal: 11, current: 218, error: null });
  });

  it('scales down one pod per two minutes, after the 5-minute window', () => {
    const decisions = run({ kind: 'hpa', hpa: HPA }, make, ticks(121), 3);
    const downs = decisions.filter((d) => d.desiredReplicas < d.currentReplicas);
    expect(downs.length).toBeGreaterThan(2);
    for (const d of downs) expect(d.currentReplicas - d.desiredReplicas).toBe(1);
    for (const [a, b] of downs.slice(1).map((d, i) => [downs[i]!, d] as const)) expect(b.time - a.time).toBeGreaterThanOrEqual(120);
  });

  it('gives byte-identical decision logs for the same input sequence (replay = live)', () => {
    const times = ticks(121);
    const first = log(run({ kind: 'hpa', hpa: HPA }, make, times, 3));
    const second = log(run({ kind: 'hpa', hpa: HPA }, make, times, 3));
    expect(second).toBe(first);
    expect(first.split('\n')).toHaveLength(121);
  });

  it('a controller restored from a snapshot continues exactly as the original', () => {
    const times = ticks(60);
    const whole = run({ kind: 'hpa', hpa: HPA }, make, times, 3);
    const a = new AutoscaleController({ kind: 'hpa', hpa: HPA });
    let replicas = 3;
    const firstHalf = times.slice(0, 30).map((t) => {
      const d = a.sync(make(t, replicas));
      replicas = d.desiredReplicas;
      return d;
    });
    const b = new AutoscaleController({ kind: 'hpa', hpa: HPA }, {}, JSON.parse(JSON.stringify(a.snapshot())));
    const secondHalf = times.slice(30).map((t) => {
      const d = b.sync(make(t, replicas));
      replicas = d.desiredReplicas;
      return d;
    });
    expect(log([...firstHalf, ...secondHalf])).toBe(log(whole));
  });

  it('decisions survive a JSON round trip unchanged (no NaN, no undefined)', () => {
    for (const d of run({ kind: 'hpa', hpa: HPA }, make, ticks(40), 3)) expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe('the KEDA fixture over a queue burst', () => {
  const queue = (t: number) => (t < 60 ? 0 : t < 360 ? 60 : 0);
  const make = (t: number, replicas: number): SyncInput => ({
    time: t,
    replicas,
    triggers: { queue_depth: t === 90 ? { error: 'connection refused' } : { prometheus: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [t, String(queue(t))] }] } } } },
    guardrails: { degradedGateways: [], disks: [] },
  });

  it('wakes on the first job, scales to ceil(60 / 8), and sleeps again after the cooldown', () => {
    const decisions = run({ kind: 'keda', scaledObject: SO }, make, ticks(61), 0);
    expect(decisions.find((d) => d.time === 60)).toMatchObject({ desiredReplicas: 1, conditions: ['KedaActivated'] });
    expect(Math.max(...decisions.map((d) => d.desiredReplicas))).toBe(8);
    const sleep = decisions.find((d) => d.keda?.action === 'deactivated');
    // Last active poll at t=345; cooldown 120 s: the first poll past 465 s.
    expect(sleep).toMatchObject({ time: 480, desiredReplicas: 0 });
  });

  it('gives byte-identical decision logs for the same input sequence', () => {
    const times = ticks(61);
    expect(log(run({ kind: 'keda', scaledObject: SO }, make, times, 0))).toBe(log(run({ kind: 'keda', scaledObject: SO }, make, times, 0)));
  });
});

describe('controller mechanics', () => {
  const legacy: HpaSpec = { ...HPA, behavior: null, metrics: HPA.metrics.filter((m) => m.key === WS) };

  it('legacy path: no scale-down for 5 minutes after the first sync (the first sync is a recommendation too)', () => {
    const decisions = run({ kind: 'hpa', hpa: legacy }, (t, r) => wsSync(t, r, 10), ticks(22), 6);
    const firstDown = decisions.find((d) => d.desiredReplicas < d.currentReplicas);
    expect(firstDown).toMatchObject({ time: 315, currentReplicas: 6, desiredReplicas: 3 });
    expect(decisions.find((d) => d.time === 300)?.conditions).toContain('ScaleDownStabilized');
  });

  it('legacy path: scale-up limited to max(2 × current, 4) per sync', () => {
    const [d] = run({ kind: 'hpa', hpa: legacy }, (t, r) => wsSync(t, r, 2000), [0], 3);
    expect(d).toMatchObject({ recommendation: 30, hpaDesired: 6, desiredReplicas: 6, limit: 'ScaleUpLimit' });
  });

  it('answers "no sync due" between HPA syncs', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa: HPA });
    c.sync(wsSync(0, 3, 100));
    const d = c.sync(wsSync(5, 3, 900));
    expect(d).toMatchObject({ loops: [], desiredReplicas: 3, conditions: ['NoSyncDue'] });
    expect(c.nextSyncAt()).toBe(15);
    expect(c.sync(wsSync(15, 3, 900)).loops).toEqual(['hpa']);
  });

  it('refuses time going backwards and nonsense replica counts', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa: HPA });
    c.sync(wsSync(30, 3, 100));
    expect(() => c.sync(wsSync(15, 3, 100))).toThrow(/went backwards/);
    expect(() => c.sync({ ...wsSync(45, 3, 100), replicas: -1 })).toThrow(/replicas must be a whole number/);
  });

  it('several metrics: a failing metric blocks a scale-down but not a scale-up', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa: { ...HPA, behavior: { ...HPA.behavior!, scaleDown: { ...HPA.behavior!.scaleDown, stabilizationWindowSeconds: 0 } } } });
    const noCpu = (input: SyncInput): SyncInput => ({ ...input, metrics: { ...input.metrics, [CPU]: { error: 'unable to fetch metrics from resource metrics API' } } });
    const down = c.sync(noCpu(wsSync(0, 6, 50)));
    expect(down).toMatchObject({ desiredReplicas: 6, recommendation: null, conditions: ['MetricsUnavailable'] });
    expect(down.error).toMatch(/invalid metrics \(1 invalid out of 2\)/);
    const up = c.sync(noCpu(wsSync(15, 6, 300)));
    expect(up.recommendation).toBe(9);
    expect(up.error).toMatch(/resource\/cpu: unable to fetch/);
  });

  it('all metrics failing changes nothing', () => {
    const c = new AutoscaleController({ kind: 'hpa', hpa: HPA });
    const d = c.sync({ time: 0, replicas: 4, metrics: { [WS]: { error: 'adapter down' }, [CPU]: { error: 'metrics-server down' } } });
    expect(d).toMatchObject({ desiredReplicas: 4, recommendation: null, conditions: ['MetricsUnavailable'] });
    expect(d.reason).toMatch(/^hold at 4: metrics unavailable \(invalid metrics \(2 invalid out of 2\)/);
  });

  it('pre-checks: above max goes to max, below min to min, 0 replicas disables scaling', () => {
    const sync = (replicas: number) => new AutoscaleController({ kind: 'hpa', hpa: HPA }).sync(wsSync(0, replicas, 100));
    expect(sync(20)).toMatchObject({ desiredReplicas: 12, conditions: ['AboveMaxReplicas'], recommendation: null });
    expect(sync(1)).toMatchObject({ desiredReplicas: 3, conditions: ['BelowMinReplicas'] });
    expect(sync(0)).toMatchObject({ desiredReplicas: 0, conditions: ['ScalingDisabled'] });
  });

  it('a missing pod on a scale-down counts at the target', () => {
    // 4 gateways: three report 50 connections, one nothing. Ratio 0.25 → the missing one counts as
    // 200 (the target) → average 87 → 2 replicas rather than 1.
    const c = new AutoscaleController({ kind: 'hpa', hpa: { ...legacy, minReplicas: 1 } });
    c.sync(wsSync(0, 4, [50, 50, 50, null]));
    const d = c.sync(wsSync(315, 4, [50, 50, 50, null]));
    expect(d.recommendation).toBe(2);
  });
});
