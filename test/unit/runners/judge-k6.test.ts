// `clawstorm judge --from-prometheus`: a distributed k6 run judged from what its runners
// remote-wrote. A real Prometheus (remote-write receiver, native histograms) receives k6-shaped
// series for three runners — cumulative counters and schema-3 native histograms, labelled as the
// k6-operator labels them — and the judge gives one verdict: counts exact, percentiles within a
// bucket of the union’s, a failing runner fails the run, a silent runner makes it inconclusive;
// WebSocket samples become one tag set a step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPrometheus, stopPrometheus, type PrometheusInstance } from '../../../harness/launch/prometheus.ts';
import { main } from '../../../src/cli/main.ts';
import { EXIT } from '../../../src/cli/errors.ts';
import { readResults } from '../../../src/report/results.ts';
import { PromClient } from '../../../src/prom/client.ts';
import { readK6Run } from '../../../src/runners/k6-run.ts';
import { writeK6Runner, type K6Request, type K6Runner, type K6WsSample } from '../../support/k6-remote-write.ts';

const SCENARIO = path.resolve(import.meta.dirname, '../../fixtures/k6/policy-check.yaml');
let prom: PrometheusInstance | undefined;
let dir = '';
let target = '';
let out = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-judge-k6-'));
  prom = await startPrometheus({ dir: path.join(dir, 'prom'), jobs: [], detached: false, nativeHistograms: true });
  target = path.join(dir, 'target.yaml');
  fs.writeFileSync(target, `name: k6-cluster\nlb: http://127.0.0.1:9\nprometheus: { url: ${prom.url}, scrapeInterval: 5s }\ngateways:\n  - { name: gw-1, url: 'http://127.0.0.1:9' }\nmetrics: []\n`);
}, 60_000);

afterAll(async () => {
  if (prom) await stopPrometheus(prom);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  out = '';
  const grab = (s: string | Uint8Array) => {
    out += String(s);
    return true;
  };
  vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Deterministic latencies, seconds: `n` values spread over [lo, hi], shuffled in time. */
function requests(n: number, lo: number, hi: number, errorsEvery = 0): K6Request[] {
  return Array.from({ length: n }, (_, k) => ({
    at: (((k * 7919) % n) / n) * 14 + 0.5,
    scenario: 'policy-check',
    step: 'sessions_list',
    kind: 'tool',
    call: 'sessions_list',
    status: errorsEvery > 0 && k % errorsEvery === 0 ? 500 : 200,
    duration: lo + ((k * 104729) % n) * ((hi - lo) / n),
  }));
}

const runner = (instance: number, reqs: K6Request[], startMs: number): K6Runner => ({ instance, startMs, requests: reqs, iterations: { 'policy-check': reqs.length } });

function exactP95Ms(all: readonly K6Request[]): number {
  const sorted = all.map((q) => q.duration * 1000).sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1] as number;
}

async function judge(run: string, runners: number): Promise<{ code: number; results: ReturnType<typeof readResults> }> {
  const outDir = path.join(dir, run);
  const code = await main(['judge', '--run', run, '--runners', String(runners), '--from-prometheus', '--target', target, '--scenario', SCENARIO, '--profile', 'smoke', '--out', outDir]);
  return { code, results: readResults(path.join(outDir, 'results.json')) };
}

describe('judge --from-prometheus (k6 series through remote write)', () => {
  it('three runners: one verdict; counts exact; P95 within a bucket of the union’s, not a mean of the runners’', async () => {
    const start = Date.now() - 60_000;
    const parts = [requests(300, 0.02, 0.06), requests(300, 0.03, 0.09, 100), requests(300, 0.04, 0.2)];
    for (const [i, reqs] of parts.entries()) await writeK6Runner(`${prom?.url}/api/v1/write`, 'k6-pass', runner(i + 1, reqs, start));
    const { code, results } = await judge('k6-pass', 3);
    const s = results.scenarios.find((x) => x.name === 'policy-check');
    const why = `${out}\n${results.reasons.join('; ')}`;
    expect(code, why).toBe(EXIT.ok);
    expect(s?.status, why).toBe('Pass');
    expect(s?.requests, why).toBe(900);
    expect(s?.extra.iterations_started, why).toBe(900);
    expect(s?.errorRate, why).toBeCloseTo(3 / 900, 9);
    expect(results.runners?.runners.map((r) => r.state)).toEqual(['reported', 'reported', 'reported']);

    const all = parts.flat();
    const exact = exactP95Ms(all);
    const judged = s?.p95 as number;
    // Schema 3 buckets are 9.05 % wide; spreading a bucket evenly adds no more than that.
    expect(Math.abs(judged - exact) / exact, `judged P95 ${judged} ms, union ${exact} ms`).toBeLessThan(0.0905);
    // The test tells an exact merge from an average of the runners' P95s.
    const meanOfP95s = parts.reduce((a, p) => a + exactP95Ms(p), 0) / parts.length;
    expect(Math.abs(meanOfP95s - exact) / exact).toBeGreaterThan(0.2);
    expect(results.runners?.note ?? '').toMatch(/native histograms \(within 9\.\d %/);
    expect(out).toMatch(/3\/3 k6 runners found in Prometheus/);
  }, 120_000);

  it('one slow runner fails the run (exit 1): the merged P95 is above the threshold', async () => {
    const start = Date.now() - 60_000;
    const parts = [requests(200, 0.02, 0.06), requests(200, 0.02, 0.06), requests(200, 0.3, 0.5)];
    for (const [i, reqs] of parts.entries()) await writeK6Runner(`${prom?.url}/api/v1/write`, 'k6-slow', runner(i + 1, reqs, start));
    const { code, results } = await judge('k6-slow', 3);
    const s = results.scenarios.find((x) => x.name === 'policy-check');
    const why = `${out}\n${results.reasons.join('; ')}`;
    expect(code, why).toBe(EXIT.failed);
    expect(s?.thresholds.find((t) => t.name === 'P95 < 250 ms')?.verdict, why).toBe('fail');
    expect(s?.requests, why).toBe(600);
  }, 120_000);

  it('a runner that wrote nothing: inconclusive (exit 3), named with its segment', async () => {
    const start = Date.now() - 60_000;
    for (const i of [1, 2]) await writeK6Runner(`${prom?.url}/api/v1/write`, 'k6-short', runner(i, requests(150, 0.02, 0.06), start));
    const { code, results } = await judge('k6-short', 3);
    const why = `${out}\n${results.reasons.join('; ')}`;
    expect(code, why).toBe(EXIT.inconclusive);
    expect(results.reasons.join('\n'), why).toMatch(/runner 3\/3 \(segment 2\/3:1\) missing: no k6 series with testrun_name="k6-short"/);
    expect(results.runners?.runners.find((r) => r.index === 3)?.state).toBe('missing');
  }, 120_000);

  it('WebSocket steps: one tag set a step, failures counted in it, timings from their histogram; a stray instance_id is named', async () => {
    const start = Date.now() - 60_000;
    const ws: K6WsSample[] = Array.from({ length: 120 }, (_, k) => ({
      at: (k / 120) * 12 + 0.5,
      scenario: 'chat',
      step: 'session.rpc',
      kind: 'ws',
      call: 'chat.send',
      ok: k % 20 !== 0,
      ...(k % 40 === 0 ? {} : { duration: 0.01 + (k % 30) * 0.002 }),
    }));
    await writeK6Runner(`${prom?.url}/api/v1/write`, 'k6-ws', { instance: 1, startMs: start, requests: [], ws, iterations: { chat: 40 } });
    await writeK6Runner(`${prom?.url}/api/v1/write`, 'k6-ws', { instance: 7, startMs: start, requests: [], ws: ws.slice(0, 10), iterations: { chat: 5 } });
    const read = await readK6Run({ prom: new PromClient({ url: prom?.url ?? '' }), run: 'k6-ws', runners: 2, lookbackS: 3600, profile: 'smoke', target: 't.yaml' });
    expect(read.scenarios).toEqual(['chat']);
    expect(read.rejected.join('\n')).toMatch(/instance_id="7": not a runner 1…2/);
    expect(read.gaveUp).toMatch(/no k6 series/);
    const m = read.files.get(1)?.scenarios.find((x) => x.name === 'chat');
    const set = m?.tagSets.find((t) => t.tags.step === 'session.rpc');
    expect(set?.tags).toMatchObject({ method: 'chat.send', status_class: '2xx' });
    expect(set?.count).toBe(120);
    expect(set?.errors).toBe(6);
    expect(set?.latencySamples).toBe(117);
    expect(m?.executor.started).toBe(40);
    expect(m?.executor.planned).toBeUndefined();
  }, 60_000);

  it('a run with no series at all: nothing to judge (exit 3), said so', async () => {
    const code = await main(['judge', '--run', 'k6-never', '--runners', '2', '--from-prometheus', '--target', target, '--profile', 'smoke', '--out', path.join(dir, 'never')]);
    expect(code, out).toBe(EXIT.inconclusive);
    expect(out).toMatch(/no k6 series with testrun_name="k6-never"/);
  }, 60_000);
});
