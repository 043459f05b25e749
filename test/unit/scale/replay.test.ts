import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHpaYaml } from '../../../src/autoscale/hpa/spec.ts';
import { parseScaledObjectYaml } from '../../../src/autoscale/keda/scaledobject.ts';
import { diffDecisions, firstDifference } from '../../../src/scale/diff.ts';
import { observeAt, observationFromAnswers } from '../../../src/scale/observe.ts';
import { avgInner, buildPlan, PlanError } from '../../../src/scale/plan.ts';
import { replay, syncGrid } from '../../../src/scale/replay.ts';
import { runReplay } from '../../../src/scale/replay-run.ts';
import { RESULTS_SCHEMA, ResultsSchema } from '../../../src/report/results.ts';
import { fakeProm, spread, WS_AVG, WS_PODS, type World } from './fake-prom.ts';

const HPA_PODS = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: gw }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: gw }
  minReplicas: 2
  maxReplicas: 6
  metrics:
  - type: Pods
    pods:
      metric: { name: openclaw_ws_connections_active }
      target: { type: AverageValue, averageValue: "10" }
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{ type: Pods, value: 2, periodSeconds: 10 }]
    scaleDown:
      stabilizationWindowSeconds: 20
      policies: [{ type: Pods, value: 1, periodSeconds: 10 }]
`;

/** The adapter pattern of the WebSocket note: avg() of the per-pod gauge as an External Value. */
const HPA_AVG = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: gw-avg }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: gw }
  minReplicas: 2
  maxReplicas: 8
  metrics:
  - type: External
    external:
      metric: { name: ws_connections_per_pod }
      target: { type: Value, value: "10" }
  behavior:
    scaleUp: { stabilizationWindowSeconds: 0 }
    scaleDown: { stabilizationWindowSeconds: 0 }
`;

const pods = { kind: 'hpa' as const, hpa: parseHpaYaml(HPA_PODS, 'pods.yaml') };
const avg = { kind: 'hpa' as const, hpa: parseHpaYaml(HPA_AVG, 'avg.yaml') };
const T0 = 1_800_000_000; // a multiple of 5

describe('the observation plan', () => {
  it('reads a Pods metric per pod, and refuses an External metric without its adapter rule, naming file and field', () => {
    const plan = buildPlan(pods, 'pods.yaml');
    expect(plan.reads).toEqual([{ key: 'pods/openclaw_ws_connections_active', into: 'metrics', read: { kind: 'perPod', query: WS_PODS }, avgInner: null }]);
    expect(plan.requests).toBeNull();
    expect(() => buildPlan(avg, 'avg.yaml')).toThrow(PlanError);
    expect(() => buildPlan(avg, 'avg.yaml')).toThrow(/avg\.yaml: spec\.metrics\[0\]: external metric ws_connections_per_pod: .*--metric ws_connections_per_pod=PROMQL/);
    expect(() => buildPlan(pods, 'pods.yaml', { metricQueries: { nope: 'x' } })).toThrow(/--metric nope: pods\.yaml has no metric of that name/);
  });

  it('finds the expression under a top-level avg(), and nothing else', () => {
    expect(avgInner('avg(openclaw_ws_connections_active{job="gateway"})')).toBe('openclaw_ws_connections_active{job="gateway"}');
    expect(avgInner(' avg by () (rate(x[1m])) ')).toBe('rate(x[1m])');
    expect(avgInner('avg(a) / avg(b)')).toBeNull();
    expect(avgInner('sum(a)')).toBeNull();
    expect(avgInner('avg_over_time(a[1m])')).toBeNull();
  });

  it('gives KEDA prometheus triggers their own query', () => {
    const so = parseScaledObjectYaml(fs.readFileSync(path.join(import.meta.dirname, '../../fixtures/autoscale/keda-queue-depth.yaml'), 'utf8'), 'keda.yaml');
    const plan = buildPlan({ kind: 'keda', scaledObject: so }, 'keda.yaml');
    expect(plan.reads).toEqual([{ key: 'queue_depth', into: 'triggers', read: { kind: 'keda', query: 'sum(openclaw_queue_depth{queue="webhooks"})' }, avgInner: null }]);
  });
});

describe('one observation', () => {
  const plan = buildPlan(pods, 'pods.yaml');

  it('turns a missing scrape into a missing pod (null), never 0, and says so', async () => {
    const o = await observeAt(fakeProm(() => ({ spec: 3, conns: { 'gw-1': 12, 'gw-2': null, 'gw-3': 9 } })), plan, T0);
    expect(o.input).toMatchObject({ time: T0, replicas: 3, statusReplicas: 3, metrics: { 'pods/openclaw_ws_connections_active': { perPod: { 'gw-1': 12, 'gw-2': null, 'gw-3': 9 } } } });
    expect(o.gaps).toEqual([
      { what: 'scrape', detail: 'gw-2: up{job="gateway"} is 0 (the scrape failed; its series are missing)' },
      { what: 'pods/openclaw_ws_connections_active', detail: `no usable sample for pod gw-2 (${WS_PODS})` },
      { what: 'guardrail degraded', detail: 'no signal from gw-2: judged on the other replicas' },
      { what: 'guardrail disk', detail: 'no signal from gw-2: judged on the other replicas' },
    ]);
    // Guardrail signals come from the gateways' own gauges.
    expect(o.input?.guardrails).toEqual({ degradedGateways: [], disks: expect.arrayContaining([expect.objectContaining({ gateway: 'gw-1', ratio: 0.42, yellow: 0.82, diskOk: true })]) });
  });

  it('without a replica count there is no input, and the gap names the query', async () => {
    const o = await observeAt(fakeProm(() => ({ spec: null, conns: spread(2, 10) })), plan, T0);
    expect(o.input).toBeNull();
    expect(o.gaps.map((g) => g.what)).toContain('replicas');
  });

  it('is rebuilt exactly from its recorded answers (what the live log stores)', async () => {
    const o = await observeAt(fakeProm(() => ({ spec: 2, conns: spread(2, 31), degraded: ['gw-2'] })), plan, T0);
    expect(observationFromAnswers(plan, T0, JSON.parse(JSON.stringify(o.answers)))).toEqual(o);
    expect(o.input?.guardrails?.degradedGateways).toEqual(['gw-2']);
  });
});

/** Connections rise to 50, hold, fall to 0; the fleet follows each decision (as the live bed does). */
function rampWorld(): { world: (t: number) => World; step: (desired: number | null) => void } {
  let replicas = 2;
  const load = (s: number) => (s < 20 ? 10 : s < 60 ? 50 : s < 90 ? 20 : 0);
  return {
    world: (t) => ({ spec: replicas, conns: spread(replicas, load(t - T0)) }),
    step: (d) => {
      if (d !== null) replicas = d;
    },
  };
}

describe('a replay', () => {
  it('aligns its sync times to the epoch, so any window meets the live grid', () => {
    expect(syncGrid(T0 + 2, T0 + 17, 5)).toEqual([T0 + 5, T0 + 10, T0 + 15]);
    expect(() => syncGrid(0, 10, 2.5)).toThrow(/whole number/);
  });

  it('a live-like loop: decisions applied, scale up 2 → 5 within the Pods policy, back to 2 after the window', async () => {
    const { world, step } = rampWorld();
    const query = fakeProm(world);
    const plan = buildPlan(pods, 'pods.yaml');
    const { Replayer } = await import('../../../src/scale/replay.ts');
    const r = new Replayer(pods, { hpa: { syncPeriodSeconds: 5 }, guardrails: plan.guardrails.config });
    const trace: string[] = [];
    for (const t of syncGrid(T0, T0 + 150, 5)) {
      const s = r.step(await observeAt(query, plan, t));
      step(s.decision?.desiredReplicas ?? null);
      if (s.decision && s.decision.desiredReplicas !== s.decision.currentReplicas) trace.push(`${t - T0}: ${s.decision.currentReplicas}→${s.decision.desiredReplicas}`);
    }
    // 50 connections at 10 per pod from +20 s: 5, up by at most 2 pods per 10 s. The load falls to 20
    // at +60 s; the 20 s down window (its cutoff excluded) holds 5 until +75 s, then 1 pod per 10 s.
    expect(trace).toEqual(['20: 2→4', '30: 4→5', '75: 5→4', '85: 4→3', '95: 3→2']);
  });
});

describe('the avg() over-read', () => {
  it('with one of four scrapes missing, avg() reads 13 where sum ÷ replicas is 9.75, and adds 2 replicas', async () => {
    const plan = buildPlan(avg, 'avg.yaml', { metricQueries: { ws_connections_per_pod: WS_AVG } });
    expect(plan.reads[0]!.avgInner).toBe('openclaw_ws_connections_active{job="gateway"}');
    // 4 gateways at the target (10 each); from +10 s to +20 s gw-3's scrape is missing while the
    // others hold 13 each.
    const gap = (t: number) => t - T0 >= 10 && t - T0 <= 20;
    const world = (t: number): World => ({ spec: 4, conns: gap(t) ? { 'gw-1': 13, 'gw-2': 13, 'gw-3': null, 'gw-4': 13 } : spread(4, 40) });
    const steps = await replay({ source: avg, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 30, syncPeriodSeconds: 5 }, fakeProm(world));
    const { analyse } = await import('../../../src/scale/analysis.ts');
    const a = analyse(steps, { hpa: avg.hpa, plan, syncPeriodSeconds: 5 });
    expect(a.overRead.points.map((p) => p.t - T0)).toEqual([10, 15, 20]);
    // avg() = 39 / 3 = 13 → ceil(1.3 × 4) = 6; sum ÷ replicas = 39 / 4 = 9.75, within the 10 %
    // tolerance of the target → stay at 4.
    expect(a.overRead.points[0]).toEqual({ t: T0 + 10, key: 'external/ws_connections_per_pod', pods: 4, present: 3, missing: ['gw-3'], avgPresent: 13, perReplica: 9.75, desired: 6, correctedDesired: 4, extraReplicas: 2 });
    expect(a.overRead.maxExtraReplicas).toBe(2);
    expect(a.overRead.syncsAffected).toBe(3);
    // The report says where the series were missing, once for the three syncs.
    expect(a.gaps).toContainEqual({ from: T0 + 10, to: T0 + 20, syncs: 3, what: 'external/ws_connections_per_pod', detail: 'avg() over 3 of 4 replicas: no series from gw-3 (openclaw_ws_connections_active{job="gateway"})' });
    // Outside the gap both controllers agree.
    expect(steps.filter((s) => !gap(s.time)).every((s) => s.decision?.desiredReplicas === s.corrected?.desiredReplicas)).toBe(true);
  });
});

describe('the avg() over-read of a KEDA trigger', () => {
  it('is corrected in the raw answer KEDA reads: the same 2 extra replicas as for the HPA', async () => {
    const so = parseScaledObjectYaml(
      `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: gw-keda }
spec:
  scaleTargetRef: { name: gw }
  pollingInterval: 5
  minReplicaCount: 2
  maxReplicaCount: 8
  advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } }
  triggers:
  - type: prometheus
    name: ws
    metricType: Value
    metadata: { serverAddress: "http://prometheus:9090", query: '${WS_AVG}', threshold: "10" }
`,
      'keda.yaml',
    );
    const source = { kind: 'keda' as const, scaledObject: so };
    const plan = buildPlan(source, 'keda.yaml');
    expect(plan.reads[0]!.avgInner).toBe('openclaw_ws_connections_active{job="gateway"}');
    const gap = (t: number) => t - T0 >= 10 && t - T0 <= 20;
    const world = (t: number): World => ({ spec: 4, conns: gap(t) ? { 'gw-1': 13, 'gw-2': 13, 'gw-3': null, 'gw-4': 13 } : spread(4, 40) });
    const steps = await replay({ source, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 30, syncPeriodSeconds: 5 }, fakeProm(world));
    const { analyse } = await import('../../../src/scale/analysis.ts');
    const { hpaForScaledObject } = await import('../../../src/autoscale/keda/keda.ts');
    const a = analyse(steps, { hpa: hpaForScaledObject(so), plan, syncPeriodSeconds: 5 });
    expect(a.overRead.points.map((p) => [p.t - T0, p.desired, p.correctedDesired, p.extraReplicas])).toEqual([
      [10, 6, 4, 2],
      [15, 6, 4, 2],
      // The fleet did not follow (it stays at 4): KEDA's default scale-up policy (100 % or 4 pods
      // per 15 s) has used its period on the two scale-ups recorded, so the over-read adds nothing here.
      [20, 4, 4, 0],
    ]);
  });
});

describe('guardrails in a replay', () => {
  it('hold a scale-up while a gateway is degraded for two windows, scale to the minimum on a red disk, and say so', async () => {
    const plan = buildPlan(pods, 'pods.yaml');
    // 40 connections on 2 gateways (4 wanted); gw-1 degraded from +0 s; gw-2's disk red from +30 s.
    const world = (t: number): World => ({ spec: 2, conns: spread(2, 40), degraded: ['gw-1'], disk: t - T0 >= 30 ? { 'gw-2': 0.93 } : {} });
    const steps = await replay({ source: pods, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 30, syncPeriodSeconds: 5 }, fakeProm(world));
    const { analyse } = await import('../../../src/scale/analysis.ts');
    const a = analyse(steps, { hpa: pods.hpa, plan, syncPeriodSeconds: 5 });
    // The first window is not yet two: the scale-up goes through once (this fleet does not follow,
    // so at +5 s the Pods policy of 2 per 10 s holds it); from then on the guardrail holds it.
    expect(steps.map((s) => s.decision?.desiredReplicas)).toEqual([4, 2, 2, 2, 2, 2, 2]);
    expect(steps[1]!.decision?.conditions).toEqual(['ScaleUpLimit']);
    expect(a.guardrailHolds.map((h) => [h.t - T0, h.guardrail, h.wanted, h.allowed])).toEqual([
      [10, 'degraded', 4, 2],
      [15, 'degraded', 4, 2],
      [20, 'degraded', 4, 2],
      [25, 'degraded', 4, 2],
      [30, 'disk-red', 4, 2],
    ]);
    expect(a.guardrailNoData).toEqual([]);
  });

  it('without the guardrail signals, list them as no data at every sync', async () => {
    const plan = buildPlan(pods, 'pods.yaml');
    const empty = fakeProm(() => ({ spec: 2, conns: spread(2, 10) }));
    const query = async (q: string, t: number) => (q.startsWith('openclaw_probe_degraded') || q.startsWith('openclaw_disk') ? { status: 'success' as const, data: { resultType: 'vector' as const, result: [] } } : empty(q, t));
    const steps = await replay({ source: pods, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 10, syncPeriodSeconds: 5 }, query);
    const { analyse } = await import('../../../src/scale/analysis.ts');
    expect(analyse(steps, { hpa: pods.hpa, plan, syncPeriodSeconds: 5 }).guardrailNoData).toEqual([
      { guardrail: 'degraded', syncs: 3, first: T0 },
      { guardrail: 'disk', syncs: 3, first: T0 },
    ]);
  });
});

describe('capacity lag', () => {
  it('counts the syncs in which load per replica exceeded the target while fewer replicas ran than asked for', async () => {
    const plan = buildPlan(pods, 'pods.yaml');
    // Replicas never follow (a stuck fleet): 40 connections on 2 pods for 20 s.
    const world = (t: number): World => ({ spec: 2, conns: spread(2, t - T0 >= 10 && t - T0 < 30 ? 40 : 10) });
    const steps = await replay({ source: pods, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 40, syncPeriodSeconds: 5 }, fakeProm(world));
    const { analyse } = await import('../../../src/scale/analysis.ts');
    const a = analyse(steps, { hpa: pods.hpa, plan, syncPeriodSeconds: 5 });
    expect(a.lag.intervals).toEqual([{ from: T0 + 10, to: T0 + 30, seconds: 20, maxShortfall: 2, maxExcessPct: 100, causes: ['replicas starting', 'scale-up policy limit'] }]);
  });
});

describe('live against replay', () => {
  it('is empty for the same inputs and names the first differing field and answer otherwise', () => {
    const rec = (time: number, v: number) => ({ time, answers: { q: { v } }, input: { time, replicas: v }, decision: { desiredReplicas: v } });
    expect(diffDecisions([rec(5, 2), rec(10, 3)], [rec(5, 2), rec(10, 3)])).toEqual({ compared: 2, onlyLive: [], onlyReplay: [], differing: [] });
    const d = diffDecisions([rec(5, 2), rec(10, 3)], [rec(5, 2), rec(10, 4), rec(15, 4)]);
    expect(d.differing).toEqual([
      { time: 10, path: 'input.replicas', live: 3, replay: 4 },
      { time: 10, path: 'answers.q.v', live: 3, replay: 4 },
    ]);
    expect(d.onlyReplay).toEqual([15]);
    expect(firstDifference({ a: [1, 2] }, { a: [1, 2, 3] })).toEqual({ path: 'a[2]', a: undefined, b: 3 });
  });
});

describe('scale replay reports', () => {
  it('writes a v2 results.json with the autoscale section, results.md, report.html with the replica chart, junit and syncs.jsonl', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-scale-'));
    const file = path.join(dir, 'hpa.yaml');
    fs.writeFileSync(file, HPA_PODS);
    const { world } = rampWorld();
    const out = await runReplay({ file, prometheusUrl: 'http://127.0.0.1:9', from: T0, to: T0 + 60, syncPeriodSeconds: 5, outDir: path.join(dir, 'out'), query: fakeProm(world) });
    const json = JSON.parse(fs.readFileSync(out.reports.json, 'utf8'));
    const r = ResultsSchema.parse(json);
    expect(r.schema).toBe(RESULTS_SCHEMA);
    expect(r.autoscale?.syncs).toBe(13);
    expect(r.thresholds.map((t) => [t.name, t.verdict])).toEqual([['autoscale: every sync decided from data', 'pass']]);
    expect(out.exitCode).toBe(0);
    const md = fs.readFileSync(out.reports.markdown, 'utf8');
    expect(md).toContain('## Autoscaling');
    expect(md).toContain('### Capacity lag');
    expect(fs.readFileSync(out.reports.html, 'utf8')).toContain('aria-label="replicas over time"');
    expect(fs.readFileSync(out.reports.junit, 'utf8')).toContain('autoscale: every sync decided from data');
    expect(fs.readFileSync(path.join(dir, 'out', 'syncs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(13);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a window without a replica series is no data (exit 3), never a pass', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-scale-'));
    const file = path.join(dir, 'hpa.yaml');
    fs.writeFileSync(file, HPA_PODS);
    const out = await runReplay({ file, prometheusUrl: 'http://127.0.0.1:9', from: T0, to: T0 + 20, syncPeriodSeconds: 5, outDir: path.join(dir, 'out'), query: fakeProm(() => ({ spec: null, conns: {} })) });
    expect(out.exitCode).toBe(3);
    expect(out.results.verdict).toBe('no_data');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
