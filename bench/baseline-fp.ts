// How often two clean runs of the same build are called a regression: the baseline judge's
// false-positive rate on this machine. Starts its own test bed, throws one warm-up run away,
// runs the smoke gate RUNS times in a row (each judged against the run before it, so every run
// has its baseline even where a busy host left the previous one inconclusive) and compares every
// consecutive pair and every pair offline with the default rule.
// With --fault it then runs once more with 40 ms of latency on one gateway (a true regression,
// not counted in the rate) so the run folders make a trend with a regression in it.
//
//   flock /tmp/cs-integration.lock node bench/baseline-fp.ts [--runs 6] [--out DIR] [--fault]
//
// Needs a quiet machine: run it under the integration lock. Results: bench/results/baseline-fp.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { compareRuns, ranScenarios, type Comparison } from '../src/baseline/compare.ts';
import { readResults, type Results } from '../src/report/results.ts';
import { stopTestbed } from '../src/testbed/down.ts';
import { readTokenFile } from '../src/testbed/tokens.ts';
import { referenceBed } from '../src/testbed/types.ts';
import { startTestbed } from '../src/testbed/up.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin/clawstorm');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Math.max(2, Number(arg('--runs') ?? 6));
const OUT = path.resolve(arg('--out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-fp-')));
const FAULT = process.argv.includes('--fault');
const RESULT = path.join(ROOT, 'bench/results/baseline-fp.json');
const log = (l: string) => process.stderr.write(`${l}\n`);

interface PairOutcome {
  base: string;
  next: string;
  verdict: Comparison['verdict'];
  compared: number;
  failed: string[];
  noData: string[];
}

function pair(a: Results, b: Results): PairOutcome {
  const c = compareRuns(ranScenarios(a), ranScenarios(b));
  const rows = c.scenarios.flatMap((s) => s.metrics.map((m) => ({ id: `${s.scenario} ${m.metric}`, m })));
  return { base: a.runId, next: b.runId, verdict: c.verdict, compared: rows.length, failed: rows.filter((r) => r.m.verdict === 'fail').map((r) => `${r.id}: ${r.m.reason}`), noData: rows.filter((r) => r.m.verdict === 'no_data').map((r) => r.id) };
}

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-fp-bed-'));
// Stopped from outside (Ctrl-C, a CI timeout): the bed goes down with the bench.
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void stopTestbed(stateDir).finally(() => process.exit(130));
  });
}
const index = path.join(OUT, 'index.json');
const runs: Array<{ dir: string; exitCode: number; loadavg: number[]; results: Results }> = [];
let faulted: { dir: string; exitCode: number; results: Results } | undefined;
const t0 = Date.now();
try {
  const bed = referenceBed(await startTestbed({ replicas: 3, stateDir, onProgress: (l) => log(`[testbed] ${l}`) }), 'the baseline false-positive bench');
  const gate = async (name: string, more: string[]) => {
    const dir = path.join(OUT, name);
    const r = await execa(CLI, ['gate', '--profile', 'smoke', '--testbed-state', stateDir, '--out', dir, ...more], { reject: false, env: { CI: 'true' }, cwd: ROOT, timeout: 600_000 });
    log(`${name}: exit ${r.exitCode} (${((Date.now() - t0) / 1000).toFixed(0)} s, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    return { dir, exitCode: r.exitCode ?? -1, results: readResults(path.join(dir, 'results.json')) };
  };
  await gate('warm-up', ['--index', 'off']);
  for (let i = 1; i <= RUNS; i++) {
    const r = await gate(`clean-${i}`, ['--index', index, ...(i > 1 ? ['--baseline', runs[i - 2]!.dir] : [])]);
    runs.push({ ...r, loadavg: os.loadavg() });
  }
  if (FAULT) {
    const admin = readTokenFile(bed.tokenFiles.admin);
    const victim = bed.gateways[0]!;
    const set = (m: string, body?: unknown) =>
      fetch(`${victim.url}/admin/faults${m === 'POST' ? '/reset' : ''}`, { method: m, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    await set('PUT', { latencyMs: 40 });
    try {
      faulted = await gate('latency-40ms-gw-1', ['--index', index, '--baseline', runs[runs.length - 1]!.dir]);
    } finally {
      await set('POST');
    }
  }
} finally {
  const down = await stopTestbed(stateDir);
  if (down.problems.length > 0) log(`testbed: ${down.problems.join('; ')}`);
}

const consecutive = runs.slice(1).map((r, i) => pair(runs[i]!.results, r.results));
const all = runs.flatMap((a, i) => runs.slice(i + 1).map((b) => pair(a.results, b.results)));
const rate = (ps: PairOutcome[]) => ({ pairs: ps.length, regressions: ps.filter((p) => p.failed.length > 0).length, metricsCompared: ps.reduce((n, p) => n + p.compared, 0), metricsFailed: ps.reduce((n, p) => n + p.failed.length, 0) });
const summary = {
  measuredAt: new Date().toISOString(),
  host: { cpus: os.cpus().length, loadavgAtEnd: os.loadavg() },
  rule: 'default: P99 > +15 % and the judge (Mann–Whitney, 98 %) finds latency significantly higher; error rate up beyond noise (one-sided Fisher exact, 2 %)',
  runs: runs.map((r) => ({ runId: r.results.runId, dir: r.dir, exitCode: r.exitCode, verdict: r.results.verdict, loadavg1m: Number(r.loadavg[0]!.toFixed(2)), scenarios: r.results.scenarios.filter((s) => s.status !== 'Not run').map((s) => ({ name: s.name, requests: s.requests, p99: s.p99 })) })),
  consecutive: { ...rate(consecutive), outcomes: consecutive },
  allPairs: { ...rate(all), outcomes: all.filter((p) => p.failed.length > 0) },
  faulted: faulted ? { runId: faulted.results.runId, exitCode: faulted.exitCode, regressions: faulted.results.scenarios.flatMap((s) => s.thresholds.filter((t) => t.name.startsWith('baseline: ') && t.verdict === 'fail').map((t) => `${s.name} ${t.name}`)) } : null,
};
fs.mkdirSync(path.dirname(RESULT), { recursive: true });
fs.writeFileSync(RESULT, `${JSON.stringify(summary, null, 2)}\n`);
log(`false positives: ${summary.consecutive.regressions} of ${summary.consecutive.pairs} consecutive pairs, ${summary.allPairs.regressions} of ${summary.allPairs.pairs} pairs (${RESULT}); runs in ${OUT}`);
