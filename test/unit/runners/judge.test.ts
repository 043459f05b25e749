// The judge of a distributed run, on runner files written here and a stand-in Prometheus that
// answers 0 to every query: a missing runner is named and the run is inconclusive (exit 3); the
// merged percentiles are those of the union of every runner's raw samples, exactly; a saturated
// runner is named and the client thresholds it measured are not trusted.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTargetProfile } from '../../../src/config/profile.ts';
import { resolveScenario } from '../../../src/config/scenario.ts';
import type { ScenarioMeasurement } from '../../../src/gate/scenario-run.ts';
import { LatencyHistogram } from '../../../src/load/histogram.ts';
import type { MonitorVerdict } from '../../../src/load/monitor.ts';
import { evenSequence, segmentString, sequenceString } from '../../../src/load/segment.ts';
import { readResults } from '../../../src/report/results.ts';
import { writeRunnerFile, type RunnerFile } from '../../../src/runners/file.ts';
import { collectRunnerFiles, judgeRun } from '../../../src/runners/judge.ts';

let server: http.Server;
let promUrl = '';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-judge-'));

beforeAll(async () => {
  // Every query answers 0 now (instant) or 0 at each step (range): the PromQL side passes, so the
  // verdict is decided by the runners.
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const t = Number(u.searchParams.get('time') ?? Date.now() / 1000);
    const body = u.pathname.endsWith('query_range')
      ? { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[Number(u.searchParams.get('start')), '0'], [Number(u.searchParams.get('end')), '0']] }] } }
      : { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [t, '0'] }] } };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  promUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const bound = () => ({
  profile: parseTargetProfile(`name: judge-test\nlb: http://127.0.0.1:9\nprometheus: { url: ${promUrl}, scrapeInterval: 1s }\ngateways:\n  - { name: gw-1, url: 'http://127.0.0.1:9' }\nmetrics: []\n`, 'judge-test.yaml'),
  tokens: {},
});

const quiet: MonitorVerdict = {
  saturated: false,
  reasons: [],
  eventLoopP99Ms: 5,
  eventLoopMaxMs: 10,
  cpuPct: 20,
  cpuPctMax: 30,
  hostCpuPct: 40,
  generatorHostSharePct: 10,
  hostStealPct: 0,
  pacerLagP99Ms: 1,
  pacerLagMaxMs: 2,
  watchedMs: 10_000,
};

/** One runner's measurement of policy-evaluation from raw latencies (ms). */
function measured(samples: number[], planned: number, monitor = quiet): ScenarioMeasurement {
  const h = new LatencyHistogram();
  for (const ms of samples) h.recordMs(ms);
  const { count: _c, ...stats } = h.stats();
  const group = { ...stats, count: samples.length, errors: 0, errorRate: 0, errorRateOf: 'requests' as const, latencySamples: samples.length, latencyFrom: 'intended-start' as const, clampedSamples: 0, histogram: h.encode() };
  const end = Date.now() - 120_000;
  return {
    name: 'policy-evaluation',
    startedAt: end - 10_000,
    endedAt: end,
    aborted: false,
    summary: { ...group, scenario: 'policy-evaluation', completed: samples.length, failed: 0, interrupted: 0, dropped: 0, errorMessages: [] },
    tagSets: [{ ...group, tags: { scenario: 'policy-evaluation', step: 'sessions_list', method: 'sessions_list', status_class: '2xx' } }],
    executor: { planned, started: samples.length, completed: samples.length, failed: 0, interrupted: 0, dropped: planned - samples.length, peakVus: 5, setupFailures: 0, watchdogFired: false },
    series: [],
    monitor,
    audit: undefined,
  };
}

function runnerFile(run: string, i: number, n: number, m: ScenarioMeasurement): RunnerFile {
  const seq = evenSequence(n);
  return {
    schema: 'clawstorm.runner/v1',
    run,
    runner: `${run}-${i}`,
    index: i,
    segment: segmentString(seq[i - 1]!),
    sequence: sequenceString(seq),
    profile: 'smoke',
    target: 'judge-test',
    host: 'test',
    startedAt: new Date(m.startedAt).toISOString(),
    endedAt: new Date(m.endedAt).toISOString(),
    planned: ['policy-evaluation'],
    complete: true,
    scenarios: [m],
  };
}

/** Deterministic, different latency spreads per runner (so a mean of percentiles would be wrong). */
const spread = (n: number, base: number, step: number) => Array.from({ length: n }, (_, k) => base + ((k * 7919) % n) * step);

async function judge(dir: string, run: string, n: number) {
  const lines: string[] = [];
  const outDir = path.join(dir, 'report');
  const signal = new AbortController().signal;
  const log = (l: string): void => void lines.push(l);
  const outcome = await judgeRun({
    run,
    runners: n,
    signal,
    log,
    collect: () => collectRunnerFiles({ run, runners: n, resultsDir: dir, waitUpToMs: 1_500, pollMs: 100, signal, log }),
    files: [resolveScenario('policy-evaluation')],
    profile: 'smoke',
    bound: bound(),
    sharedHost: false,
    outDir,
  });
  return { outcome, lines, results: readResults(path.join(outDir, 'results.json')) };
}

describe('clawstorm judge', () => {
  it('one runner file missing: inconclusive, exit 3, and the missing runner is named with its segment', async () => {
    const dir = path.join(work, 'missing');
    writeRunnerFile(dir, runnerFile('r-missing', 1, 3, measured(spread(167, 5, 0.2), 167)));
    writeRunnerFile(dir, runnerFile('r-missing', 2, 3, measured(spread(167, 5, 0.2), 167)));
    const { outcome, lines, results } = await judge(dir, 'r-missing', 3);
    expect(outcome.exitCode, results.reasons.join('; ')).toBe(3);
    expect(results.verdict).toBe('inconclusive');
    expect(results.reasons.join('\n')).toMatch(/runner 3\/3 \(segment 2\/3:1\) missing/);
    expect(lines.join('\n')).toMatch(/waiting for 3\/3/);
    expect(results.runners?.runners.map((r) => r.state)).toEqual(['reported', 'reported', 'missing']);
    const s = results.scenarios.find((x) => x.name === 'policy-evaluation')!;
    // Its thresholds measured on two thirds of the load pass, but the scenario cannot.
    expect(s.thresholds.filter((t) => t.source === 'client').every((t) => t.verdict === 'pass')).toBe(true);
    expect(s.status).toBe('Inconclusive');
  });

  it('every runner reported: the merged percentiles are the union’s, exactly; counts add up to the plan; one pass', async () => {
    const dir = path.join(work, 'all');
    const raw = [spread(167, 2, 0.05), spread(167, 20, 0.3), spread(166, 50, 0.1)];
    raw.forEach((samples, k) => writeRunnerFile(dir, runnerFile('r-all', k + 1, 3, measured(samples, samples.length))));
    const { outcome, results } = await judge(dir, 'r-all', 3);
    const union = new LatencyHistogram();
    for (const ms of raw.flat()) union.recordMs(ms);
    const s = results.scenarios.find((x) => x.name === 'policy-evaluation')!;
    expect(outcome.exitCode, results.reasons.join('; ')).toBe(0);
    expect(s.requests).toBe(500);
    expect(s.extra.iterations_planned).toBe(500);
    expect(s.p95).toBe(Math.round(union.percentileMs(95) * 1000) / 1000);
    expect(s.p99).toBe(Math.round(union.percentileMs(99) * 1000) / 1000);
    expect(s.percentiles?.map((p) => p.ms)).toEqual([50, 75, 90, 95, 99, 99.9, 100].map((p) => Math.round(union.percentileMs(p) * 1000) / 1000));
    // Not the mean of the runners' own P95s.
    const meanOfP95 = (results.runners?.scenarios[0]?.runners ?? []).reduce((a, r) => a + (r.p95 ?? 0), 0) / 3;
    expect(Math.abs(meanOfP95 - (s.p95 ?? 0))).toBeGreaterThan(1);
  });

  it('a saturated runner is named and the client thresholds are inconclusive; server-side ones stand', async () => {
    const dir = path.join(work, 'hot');
    writeRunnerFile(dir, runnerFile('r-hot', 1, 2, measured(spread(250, 5, 0.1), 250)));
    writeRunnerFile(dir, runnerFile('r-hot', 2, 2, measured(spread(250, 5, 0.1), 250, { ...quiet, saturated: true, reasons: ['event loop stalled for 900 ms (> 500 ms)'] })));
    const { outcome, results } = await judge(dir, 'r-hot', 2);
    expect(outcome.exitCode).toBe(3);
    const s = results.scenarios.find((x) => x.name === 'policy-evaluation')!;
    const client = s.thresholds.filter((t) => t.source === 'client');
    expect(client.length).toBeGreaterThan(0);
    for (const t of client) {
      expect(t.verdict).toBe('inconclusive');
      expect(t.detail).toMatch(/saturated on runner 2\/2 \(r-hot-2\)/);
    }
    expect(s.thresholds.filter((t) => t.source === 'promql').every((t) => t.verdict === 'pass')).toBe(true);
    expect(results.runners?.runners[1]).toMatchObject({ saturated: true, state: 'reported' });
    expect(results.generator.reasons.join('\n')).toMatch(/runner 2\/2 \(r-hot-2\): event loop stalled/);
  });
});
