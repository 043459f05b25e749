import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHpaYaml } from '../../../src/autoscale/hpa/spec.ts';
import { diffDecisions } from '../../../src/scale/diff.ts';
import { replicaHistory } from '../../../src/scale/history.ts';
import { LiveAutoscaler, Reconciler, type AutoscalerConfig } from '../../../src/scale/live.ts';
import { logFileOf, readLog } from '../../../src/scale/log.ts';
import { buildPlan } from '../../../src/scale/plan.ts';
import { replay } from '../../../src/scale/replay.ts';
import type { LoadedSource } from '../../../src/scale/source.ts';
import { waitFor } from '../../../src/util/wait.ts';
import { fakeProm, spread, type World } from './fake-prom.ts';

const HPA = parseHpaYaml(
  `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: gw }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: gw }
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Pods
    pods:
      metric: { name: openclaw_ws_connections_active }
      target: { type: AverageValue, averageValue: "6" }
  behavior:
    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 2, periodSeconds: 10 }] }
    scaleDown: { stabilizationWindowSeconds: 20, policies: [{ type: Pods, value: 1, periodSeconds: 10 }] }
`,
  'hpa.yaml',
);
const loaded: LoadedSource = { file: 'hpa.yaml', source: { kind: 'hpa', hpa: HPA }, name: 'gw', minReplicas: 2, maxReplicas: 5, pollingIntervalSeconds: null };
const T0 = 1_800_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function config(stateDir: string): AutoscalerConfig {
  return {
    stateDir,
    file: 'hpa.yaml',
    kind: 'hpa',
    prometheusUrl: 'http://127.0.0.1:9',
    host: '127.0.0.1',
    port: 1,
    syncPeriodSeconds: 5,
    settleSeconds: 2,
    plan: {},
    controller: {},
    initialReplicas: 2,
    drainTimeoutMs: 0,
    logFile: logFileOf(stateDir),
  };
}

/**
 * A bed in a test: the replica count the autoscaler set is what Prometheus reports from the next
 * grid time on (its gauge is scraped), and the gateways appear one sync later (they take time to start).
 */
function bed(load: (s: number) => number) {
  const specAt: Array<{ from: number; n: number }> = [{ from: 0, n: 2 }];
  const valueAt = (t: number, lag: number) => [...specAt].reverse().find((x) => x.from + lag <= t)!.n;
  const world = (t: number): World => ({ spec: valueAt(t, 0), conns: spread(valueAt(t, 5), load(t - T0)) });
  return { world, set: (t: number, n: number) => specAt.push({ from: t + 1, n }) };
}

describe('the live autoscaler', () => {
  it('waits until each grid time + settle, reads Prometheus at the grid time, and a replay of the same series gives the same inputs and decisions', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-live-'));
    dirs.push(dir);
    const cfg = config(dir);
    const b = bed((s) => (s < 20 ? 0 : s < 60 ? 24 : 0));
    const asked: Array<{ q: string; t: number; at: number }> = [];
    let clock = T0 - 3.4;
    const query = fakeProm(b.world);
    const plan = buildPlan(loaded.source, 'hpa.yaml');
    const requested: number[] = [];
    const stop = new AbortController();
    const live = new LiveAutoscaler(cfg, loaded, plan, {
      query: async (q, t) => {
        asked.push({ q, t, at: clock });
        return query(q, t);
      },
      now: () => clock,
      sleep: async (ms) => {
        clock += ms / 1000;
      },
      actuator: { request: (n) => requested.push(n) },
      onSpec: (n) => b.set(clock, n),
      onSync: (t) => {
        if (t >= T0 + 120) stop.abort();
      },
      log: () => {},
    });
    live.writeHeader();
    await live.run(stop.signal);
    // Every read is at a grid time, made 2 s after it.
    const times = [...new Set(asked.map((a) => a.t))];
    expect(times[0]).toBe(T0);
    expect(times.every((t) => t % 5 === 0)).toBe(true);
    expect(asked.every((a) => a.at === a.t + 2)).toBe(true);
    expect(Math.max(...requested)).toBe(4);

    const log = readLog(cfg.logFile);
    expect(log.header).toMatchObject({ kind: 'header', syncPeriodSeconds: 5, settleSeconds: 2, name: 'gw' });
    expect(log.syncs).toHaveLength(25);
    const steps = await replay({ source: loaded.source, plan, controller: { guardrails: plan.guardrails.config }, from: T0, to: T0 + 120, syncPeriodSeconds: 5 }, query);
    const diff = diffDecisions(
      log.syncs.map((s) => ({ time: s.time, answers: s.answers, input: s.input, decision: s.decision })),
      steps.map((s) => ({ time: s.time, answers: s.observation.answers, input: s.observation.input, decision: s.decision })),
    );
    expect(diff).toEqual({ compared: 25, onlyLive: [], onlyReplay: [], differing: [] });
    const h = replicaHistory(dir)!;
    expect(h.events.filter((e) => e.kind === 'scale').map((e) => e.text.split(':')[0])).toEqual(['scale up 2 → 4', 'scale down 4 → 3', 'scale down 3 → 2']);
  });

  it('records a sync Prometheus could not answer as no decision, and leaves the controller as it was', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-live-'));
    dirs.push(dir);
    const cfg = config(dir);
    const plan = buildPlan(loaded.source, 'hpa.yaml');
    let down = true;
    const query = fakeProm(() => ({ spec: 2, conns: spread(2, 30) }));
    const live = new LiveAutoscaler(cfg, loaded, plan, {
      query: async (q, t) => {
        if (down) throw new Error('Prometheus unreachable at http://127.0.0.1:9');
        return query(q, t);
      },
      now: () => T0,
      sleep: async () => {},
      actuator: { request: () => {} },
      onSpec: () => {},
      log: () => {},
    });
    expect(await live.syncAt(T0)).toBeNull();
    down = false;
    // The first decision the controller makes is still its first sync (30 connections / 6 = 5).
    expect(await live.syncAt(T0 + 5)).toMatchObject({ currentReplicas: 2, recommendation: 5, desiredReplicas: 4 });
    const log = readLog(cfg.logFile);
    expect(log.syncs[0]).toMatchObject({ time: T0, decision: null, gaps: [{ what: 'prometheus', detail: 'Prometheus unreachable at http://127.0.0.1:9' }] });
  });
});

describe('the reconciler', () => {
  /** A fleet whose starts and stops finish when the test says so. */
  function fleet(startFails: Set<string> = new Set()) {
    const ids = new Set(['gw-1', 'gw-2']);
    const calls: string[] = [];
    const pending = new Map<string, () => void>();
    const ops = {
      list: () => [...ids],
      next: (existing: string[], count: number) => {
        const out: string[] = [];
        for (let n = 1; out.length < count; n++) if (!existing.includes(`gw-${n}`) && !out.includes(`gw-${n}`)) out.push(`gw-${n}`);
        return out;
      },
      start: async (id: string) => {
        calls.push(`start ${id}`);
        await new Promise<void>((r) => pending.set(`start ${id}`, r));
        if (startFails.has(id)) throw new Error(`cannot start ${id}`);
        ids.add(id);
      },
      stop: async (id: string) => {
        calls.push(`stop ${id}`);
        ids.delete(id);
        await new Promise<void>((r) => pending.set(`stop ${id}`, r));
      },
      signal: new AbortController().signal,
    };
    const finish = async (call: string) => {
      await waitFor(() => pending.has(call), { timeoutMs: 1_000, intervalMs: 1, what: call });
      pending.get(call)!();
      pending.delete(call);
      await new Promise((r) => setImmediate(r));
    };
    return { ids, calls, ops, finish };
  }

  it('starts more at once when more are asked for while some are starting', async () => {
    const f = fleet();
    const r = new Reconciler(f.ops);
    r.request(3);
    r.request(5);
    expect(f.calls).toEqual(['start gw-3', 'start gw-4', 'start gw-5']);
    await Promise.all(['start gw-3', 'start gw-4', 'start gw-5'].map(f.finish));
    await r.idle();
    expect([...f.ids].sort()).toEqual(['gw-1', 'gw-2', 'gw-3', 'gw-4', 'gw-5']);
  });

  it('stops the newest only once the starts in flight are done, and never reuses a number being stopped', async () => {
    const f = fleet();
    const r = new Reconciler(f.ops);
    r.request(4);
    r.request(3);
    expect(f.calls).toEqual(['start gw-3', 'start gw-4']);
    await f.finish('start gw-3');
    await f.finish('start gw-4');
    expect(f.calls).toEqual(['start gw-3', 'start gw-4', 'stop gw-4']);
    r.request(5); // gw-4 is still stopping: nothing starts until it is gone
    expect(f.calls).toHaveLength(3);
    await f.finish('stop gw-4');
    expect(f.calls.slice(3)).toEqual(['start gw-4', 'start gw-5']);
    await f.finish('start gw-4');
    await f.finish('start gw-5');
    await r.idle();
    expect([...f.ids].sort()).toEqual(['gw-1', 'gw-2', 'gw-3', 'gw-4', 'gw-5']);
  });

  it('after a failed start it waits for the next request instead of retrying in a loop', async () => {
    const f = fleet(new Set(['gw-3']));
    const r = new Reconciler(f.ops);
    r.request(3);
    await f.finish('start gw-3');
    await r.idle();
    expect(f.calls).toEqual(['start gw-3']);
    r.request(3);
    expect(f.calls).toEqual(['start gw-3', 'start gw-3']);
    await f.finish('start gw-3');
    await r.idle();
  });
});
