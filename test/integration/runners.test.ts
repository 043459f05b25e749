// `gate --profile smoke --runners 3` on the shared test bed: three runner processes, each running
// its execution segment of the whole smoke plan, held at a start barrier and judged as one run.
// Checked against the segment arithmetic and the runners' own files: every runner started or
// dropped exactly its planned share, the shares add up to the single-runner plan, the report's
// percentiles are those of the union of the runners' histograms, and there is one verdict.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { resolveScenario } from '../../src/config/scenario.ts';
import { constantSchedule, rampingSchedule, type ExecutorConfig } from '../../src/load/executors/index.ts';
import { mergeEncoded } from '../../src/load/histogram.ts';
import { ExecutionTuple, planShard, shardTuple } from '../../src/load/segment.ts';
import { readResults, TEMPLATE_SCENARIOS } from '../../src/report/results.ts';
import { listRunnerFiles, readRunnerFile } from '../../src/runners/file.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { PromClient } from '../../src/prom/client.ts';
import { RUNNER_SERIES } from '../../src/runners/remote-write.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-runners-it-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/**
 * Starts (started + dropped) the executor plans on a runner with this tuple, from the segment
 * arithmetic alone; undefined for the duration-based closed executors, which plan no count.
 */
function plannedStarts(cfg: ExecutorConfig, t: ExecutionTuple): number | undefined {
  const plan = planShard(cfg, t);
  if (!plan.hasWork) return 0;
  const c = plan.config;
  switch (c.executor) {
    case 'per-vu-iterations':
      return c.vus * c.iterations;
    case 'shared-iterations':
      return c.iterations;
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      const schedule = c.executor === 'constant-arrival-rate' ? constantSchedule(c.rate, c.timeUnit, c.duration) : rampingSchedule(c.startRate, c.timeUnit, c.stages);
      const end = c.executor === 'constant-arrival-rate' ? c.duration : c.stages.reduce((a, s) => a + s.duration, 0);
      let n = 0;
      for (let k = 0; ; k++) {
        const off = schedule(k);
        if (off === undefined || off >= end) break;
        if (plan.ownsIteration?.(k) ?? true) n += 1;
      }
      return n;
    }
    default:
      return undefined;
  }
}

describe('gate --runners 3', () => {
  it('three runners run the smoke plan exactly once between them and get one verdict from an exact merge', { timeout: 600_000 }, async () => {
    const out = path.join(work, 'out');
    const r = await execa(CLI, ['gate', '--profile', 'smoke', '--runners', '3', '--testbed-state', tb.stateDir, '--out', out], {
      env: { CI: 'true' },
      reject: false,
      timeout: 540_000,
      cwd: work,
    });
    const log = `${r.stdout}\n${r.stderr}`;
    if (r.timedOut) throw new Error(`gate --runners 3 timed out:\n${log}`);
    expect(log).toMatch(/prove the protocol .*not more capacity/);
    expect(log).toMatch(/all 3 ready; released together/);

    const results = readResults(path.join(out, 'results.json'));
    const why = `${results.reasons.join('; ')}\n${log.slice(-4000)}`;
    // One verdict, the process's exit code.
    expect(r.exitCode, why).toBe(results.exitCode);
    expect([0, 1, 3]).toContain(results.exitCode);
    expect(results.runners?.runners.map((x) => x.state), why).toEqual(['reported', 'reported', 'reported']);

    const files = listRunnerFiles(path.join(out, 'runners')).map(readRunnerFile);
    expect(files.map((f) => f.index).sort()).toEqual([1, 2, 3]);
    // The barrier held: no runner's first scenario started before the released instant.
    const released = (JSON.parse(fs.readFileSync(path.join(out, 'runners', 'start'), 'utf8')) as { startAt: number }).startAt;
    for (const f of files) expect(f.scenarios[0]!.startedAt).toBeGreaterThanOrEqual(released);

    for (const { name } of TEMPLATE_SCENARIOS) {
      const cfg = resolveScenario(name).profiles.smoke!;
      const whole = plannedStarts(cfg, ExecutionTuple.whole());
      const s = results.scenarios.find((x) => x.name === name)!;
      const parts = files.map((f) => ({ i: f.index, m: f.scenarios.find((x) => x.name === name)! }));
      for (const p of parts) expect(p.m, `${name}: runner ${p.i} measured it`).toBeDefined();
      if (whole === undefined) {
        // constant-vus plans no count: its VUs are split exactly instead.
        const vus = parts.map((p) => p.m.executor.peakVus);
        expect(vus, name).toEqual(parts.map((p) => (planShard(cfg, shardTuple(p.i, 3)).config as { vus: number }).vus));
        expect(vus.reduce((a, b) => a + b, 0)).toBe((cfg as { vus: number }).vus);
      } else {
        for (const p of parts) {
          expect(p.m.executor.started + p.m.executor.dropped, `${name}: runner ${p.i}'s share`).toBe(plannedStarts(cfg, shardTuple(p.i, 3)));
        }
        const sum = parts.reduce((a, p) => a + p.m.executor.started + p.m.executor.dropped, 0);
        expect(sum, `${name}: the runners together`).toBe(whole);
        expect(s.extra.iterations_planned, name).toBe(whole);
        expect(Number(s.extra.iterations_started) + s.dropped, name).toBe(whole);
      }
      // The run's percentiles are the union's: the runners' histograms merged, nothing averaged.
      const union = mergeEncoded(parts.map((p) => p.m.summary!.histogram));
      expect(s.requests).toBe(parts.reduce((a, p) => a + p.m.summary!.count, 0));
      expect(mergeEncoded([s.histogram!]).count).toBe(union.count);
      expect(s.percentiles?.map((x) => x.ms), name).toEqual([50, 75, 90, 95, 99, 99.9, 100].map((p) => Math.round(union.percentileMs(p) * 1000) / 1000));
      expect(s.p95, name).toBe(Math.round(union.percentileMs(95) * 1000) / 1000);
    }

    // Every runner's series reached the bed's Prometheus by remote write, labelled by runner and
    // instance_id; each runner's last requests value is its file's count.
    const prom = new PromClient({ url: tb.prometheus.url });
    const q = `${RUNNER_SERIES.requests}{run="${results.runId}"}`;
    const series = await waitFor(
      async () => {
        const a = await prom.instant(q);
        return a.type === 'vector' && a.series.length === files.length * TEMPLATE_SCENARIOS.length ? a.series : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: `${q}: one series per runner and scenario` },
    );
    for (const f of files) {
      for (const m of f.scenarios) {
        const one = series.find((x) => x.labels.instance_id === String(f.index) && x.labels.scenario === m.name);
        expect(one?.labels.runner, `${m.name} of runner ${f.index}`).toBe(f.runner);
        expect(one?.v, `${m.name} of runner ${f.index}`).toBe(m.summary?.count ?? 0);
      }
    }
  });

  it('Ctrl-C stops every runner: each writes what it measured, marked incomplete; the run is aborted (it cannot pass) and no runner is left', { timeout: 180_000 }, async () => {
    const out = path.join(work, 'abort');
    const child = execa(CLI, ['run', 'mixed-workload', '--profile', 'smoke', '--runners', '3', '--testbed-state', tb.stateDir, '--out', out], {
      env: { CI: 'true' },
      reject: false,
      timeout: 150_000,
      cwd: work,
    });
    let seen = '';
    let sent = false;
    const onData = (d: Buffer): void => {
      seen += d.toString();
      // Interrupt once the runners are released and under load.
      if (!sent && /mixed-workload: start/.test(fs.existsSync(path.join(out, 'runners')) ? fs.readdirSync(path.join(out, 'runners')).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(out, 'runners', f), 'utf8')).join('\n') : '')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 3_000);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const r = await child;
    const why = seen.slice(-4000);
    expect(sent, why).toBe(true);
    const results = readResults(path.join(out, 'results.json'));
    expect(results.aborted, why).toBe(true);
    // An aborted run cannot pass (3); a threshold measured failing before the abort still fails it (1).
    expect(r.exitCode, why).toBe(results.exitCode);
    expect([1, 3], why).toContain(results.exitCode);
    const files = listRunnerFiles(path.join(out, 'runners')).map(readRunnerFile);
    expect(files.map((f) => f.complete), why).toEqual([false, false, false]);
    for (const f of files) expect(f.problem).toMatch(/interrupted/);
    // No process of this run is left.
    const left = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(results.runId);
        } catch {
          return false;
        }
      });
    expect(left, why).toEqual([]);
  });
});
