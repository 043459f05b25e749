// Autoscaling end to end.
// 1. A bed of its own started with `--autoscale` (the HPA on active WebSocket connections per pod,
//    sync every 5 s): a ramping WebSocket run makes it scale 2 → N → back to 2 by starting and
//    stopping real gateways; a replay of the run's series with the same YAML gives the same inputs
//    and decisions as the live controller, sync by sync (the diff is empty).
// 2. On the shared bed: a steady WebSocket run during which one replica's scrapes are blocked; the
//    replay of an HPA reading avg() of the per-pod gauge shows the over-read, and how many
//    replicas it adds.
// Every wait is a condition with a deadline; the scaling bed is stopped in afterAll whatever happens.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PromClient } from '../../src/prom/client.ts';
import { readResults } from '../../src/report/results.ts';
import { readLog, logFileOf } from '../../src/scale/log.ts';
import { runReplay } from '../../src/scale/replay-run.ts';
import { stopTestbed } from '../../src/testbed/down.ts';
import { blockScrape } from '../../src/testbed/prom-targets.ts';
import { replicaIds } from '../../src/testbed/replicas.ts';
import { readState } from '../../src/testbed/state.ts';
import { replicaHistory } from '../../src/scale/history.ts';
import { startScalingBed } from '../../src/scale/bed.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const HPA_WS = path.join(REPO, 'reports/examples/autoscale/hpa-ws-connections.yaml');
const HPA_AVG = path.join(REPO, 'reports/examples/autoscale/hpa-ws-avg.yaml');
const AVG_RULE = 'openclaw_ws_connections_per_pod=avg(openclaw_ws_connections_active{job="gateway"})';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-autoscale-it-'));
const say = (s: string) => process.stdout.write(`${s}\n`);

async function clawstormRun(scenario: string, stateDir: string, out: string): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa(CLI, ['run', scenario, '--testbed-state', stateDir, '--out', out], { env: { CI: 'true' }, reject: false, timeout: 300_000, cwd: work });
  if (r.timedOut) throw new Error(`clawstorm run ${scenario} timed out; stderr:\n${r.stderr}`);
  return { exitCode: r.exitCode ?? -1, stderr: r.stderr };
}

describe('a test bed that really scales', () => {
  const stateDir = path.join(work, 'bed');
  let up = false;

  beforeAll(async () => {
    const t0 = Date.now();
    await startScalingBed({ replicas: 2, stateDir, autoscale: { file: HPA_WS, syncPeriodSeconds: 5 }, onProgress: (l) => process.stderr.write(`[scaling bed] ${l}\n`) });
    up = true;
    say(`scaling bed up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    const report = await stopTestbed(stateDir);
    if (up) expect(report.problems, `the scaling bed left something behind: ${report.problems.join('; ')}`).toEqual([]);
  }, 120_000);

  it('scales 2 → N → 2 under a WebSocket ramp, and a replay of the run gives the same decisions (empty diff)', async () => {
    const out = path.join(work, 'ws-ramp');
    const run = await clawstormRun(path.join(REPO, 'scenarios/autoscale/ws-ramp.yaml'), stateDir, out);
    const results = readResults(path.join(out, 'results.json'));
    const ws = results.scenarios.find((s) => s.name === 'ws-ramp')!;
    // The sessions themselves: every one connected, none was cut by a scale-down (drain before stop).
    for (const t of ws.thresholds.filter((x) => x.name.startsWith('every session') || x.name.startsWith('no session'))) expect(t.verdict, `${t.name}: ${t.detail}\n${run.stderr.slice(-2000)}`).toBe('pass');

    // Back to the minimum once the load is gone: the 20 s down window, then one replica per 10 s.
    const loadEnd = Date.parse(results.endedAt) / 1000;
    // A replica leaves the bed's list when its stop begins and is logged when it ends: wait for both.
    const settled = () => {
      const l = readLog(logFileOf(stateDir));
      const n = (action: string) => l.actuations.filter((a) => a.action === action && a.ok).length;
      return replicaIds(stateDir).length === 2 && n('stop') === n('start') && l.syncs.some((s) => s.time > loadEnd && s.decision?.desiredReplicas === 2);
    };
    await waitFor(settled, {
      timeoutMs: 150_000,
      intervalMs: 1_000,
      what: 'the bed to scale back to 2 replicas',
    });
    const log = readLog(logFileOf(stateDir));
    const ups = log.actuations.filter((a) => a.action === 'start');
    const downs = log.actuations.filter((a) => a.action === 'stop');
    expect(log.actuations.filter((a) => !a.ok), JSON.stringify(log.actuations)).toEqual([]);
    const peak = Math.max(...log.syncs.map((s) => s.decision?.desiredReplicas ?? 0));
    expect(peak).toBeGreaterThanOrEqual(3);
    expect(peak).toBeLessThanOrEqual(5);
    expect(ups.length).toBe(peak - 2);
    expect(downs.length).toBe(peak - 2);
    const rampStart = Date.parse(ws.startedAt!) / 1000;
    const firstUp = log.syncs.find((s) => s.decision !== null && s.decision.desiredReplicas > s.decision.currentReplicas)!;
    const lastStarted = Math.max(...ups.map((a) => a.at + a.ms / 1000));
    const lastStopped = Math.max(...downs.map((a) => a.at + a.ms / 1000));
    say(
      `scaled 2 → ${peak} → 2: first scale-up decided ${(firstUp.time - rampStart).toFixed(0)} s after the ramp began, ${peak} running ${(lastStarted - rampStart).toFixed(0)} s after it ` +
        `(starts took ${ups.map((a) => (a.ms / 1000).toFixed(1)).join(', ')} s); back to 2 ${(lastStopped - loadEnd).toFixed(0)} s after the load ended (stops took ${downs.map((a) => (a.ms / 1000).toFixed(1)).join(', ')} s)`,
    );
    const history = replicaHistory(stateDir);
    const changes = log.syncs.filter((s) => s.decision !== null && s.decision.desiredReplicas !== s.decision.currentReplicas);
    expect(history?.events.filter((e) => e.kind === 'scale' && e.t <= log.syncs[log.syncs.length - 1]!.time).length).toBe(changes.length);
    expect(history?.events.some((e) => e.kind === 'start' && e.text.startsWith('started gw-3'))).toBe(true);

    // The replay of the run's series (the whole live window) against the live log.
    const replayed = await runReplay({
      file: HPA_WS,
      prometheusUrl: readState(stateDir).endpoints!.prometheus.url,
      liveLog: logFileOf(stateDir),
      outDir: path.join(work, 'replay'),
    });
    const diff = replayed.diff!;
    say(`replay vs live: ${diff.compared} syncs compared, ${diff.differing.length} differences, ${diff.onlyLive.length} live-only, ${diff.onlyReplay.length} replay-only`);
    // The autoscaler keeps syncing meanwhile: the replay covers at least what was read above.
    expect(diff.compared).toBeGreaterThanOrEqual(log.syncs.length);
    expect(diff.differing, JSON.stringify(diff.differing.slice(0, 4))).toEqual([]);
    expect(diff.onlyLive).toEqual([]);
    expect(diff.onlyReplay).toEqual([]);
    const written = readResults(replayed.reports.json);
    const a = written.autoscale!;
    expect(a.events.filter((e) => e.t <= log.syncs[log.syncs.length - 1]!.time).map((e) => `${e.from}→${e.to}`)).toEqual(changes.map((s) => `${s.decision!.currentReplicas}→${s.decision!.desiredReplicas}`));
    expect(a.actuations.length).toBe(ups.length + downs.length);
    say(`capacity lag ${a.lag.totalSeconds} s in ${a.lag.intervals.length} interval(s): ${a.lag.intervals.map((i) => `${i.seconds} s, ${i.maxShortfall} short, +${i.maxExcessPct}% (${i.causes.join(', ')})`).join('; ')}`);
    expect(a.lag.intervals.length).toBeGreaterThan(0);
    expect(written.thresholds.find((t) => t.name === 'autoscale: replay equals the live controller')?.verdict).toBe('pass');
    expect(replayed.exitCode).toBe(0);
  }, 600_000);
});

describe('the avg() over-read of a blocked scrape', () => {
  const tb = inject('testbed');

  it('a replay of a run with one replica’s scrapes blocked shows avg() reading above sum ÷ replicas, and the replicas it adds', async () => {
    const prom = new PromClient({ url: tb.prometheus.url, timeoutMs: 5_000 });
    const blocked = tb.gateways[1]!.id;
    const out = path.join(work, 'ws-steady');
    const running = clawstormRun(path.join(REPO, 'scenarios/autoscale/ws-steady.yaml'), tb.stateDir, out);
    try {
      // Sessions on every gateway first, then the scrape gap: 15 s in which Prometheus gets nothing from it.
      await waitFor(async () => {
        const r = await prom.instant('min(openclaw_ws_connections_active{job="gateway"})');
        return r.type === 'vector' && r.series.length === 1 && r.series[0]!.v >= 3;
      }, { timeoutMs: 60_000, intervalMs: 1_000, what: 'sessions on every gateway' });
      blockScrape(tb.stateDir, blocked, true);
      await waitFor(async () => {
        const r = await prom.instant(`max_over_time(up{job="gateway",gateway="${blocked}"}[15s])`);
        return r.type === 'vector' && r.series[0]?.v === 0;
      }, { timeoutMs: 60_000, intervalMs: 1_000, what: `15 s without a scrape of ${blocked}` });
    } finally {
      blockScrape(tb.stateDir, blocked, false);
    }
    const run = await running;
    expect(run.exitCode, run.stderr.slice(-2000)).not.toBe(2);

    const replayed = await runReplay({
      file: HPA_AVG,
      prometheusUrl: tb.prometheus.url,
      runDir: out,
      syncPeriodSeconds: 5,
      plan: { metricQueries: { openclaw_ws_connections_per_pod: 'avg(openclaw_ws_connections_active{job="gateway"})' } },
      outDir: path.join(work, 'scrape-gap'),
    });
    const o = readResults(replayed.reports.json).autoscale!.overRead;
    expect(o.checked).toEqual([{ key: 'external/openclaw_ws_connections_per_pod', query: AVG_RULE.split('=').slice(1).join('='), inner: 'openclaw_ws_connections_active{job="gateway"}' }]);
    expect(o.points.length).toBeGreaterThanOrEqual(2);
    for (const p of o.points) {
      expect(p.missing).toEqual([blocked]);
      expect(p.present).toBe(tb.gateways.length - 1);
      expect(p.avgPresent!).toBeGreaterThan(p.perReplica!);
    }
    const worst = o.points.reduce((m, p) => (p.extraReplicas > m.extraReplicas ? p : m));
    say(`avg() over-read: ${o.points.length} syncs with ${blocked} unscraped; avg() read ${worst.avgPresent?.toFixed(2)} where sum ÷ replicas is ${worst.perReplica?.toFixed(2)}: desired ${worst.desired} instead of ${worst.correctedDesired} (+${o.maxExtraReplicas})`);
    expect(o.maxExtraReplicas).toBeGreaterThanOrEqual(1);
    const md = fs.readFileSync(replayed.reports.markdown, 'utf8');
    expect(md).toContain('### Scrape-gap over-read of avg()');
    expect(md).toContain(blocked);
  }, 300_000);
});
