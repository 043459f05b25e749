// Baselines against the shared test bed: two clean runs of policy evaluation (1,500 calls each,
// test/fixtures/baseline/policy-evaluation.yaml) are not a regression; a third run with 40 ms of latency injected on one gateway (of three behind
// HAProxy) is, printed by `compare` with its evidence, and `run --baseline` fails it with the
// evidence in results.json, the run index and the event timeline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { readEventLines } from '../../src/events/ndjson.ts';
import { hostBusyBetween, readHostTicks } from '../../src/load/host-cpu.ts';
import { readIndex } from '../../src/history/run-index.ts';
import { readResults, type Results } from '../../src/report/results.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const adminToken = readTokenFile(tb.tokenFiles.admin);
const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-baseline-it-'));
const INDEX = path.join(work, 'runs', 'index.json');
const SCENARIO = path.join(REPO, 'test/fixtures/baseline/policy-evaluation.yaml');

async function clawstorm(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(CLI, args, { env: { CI: 'true' }, reject: false, timeout: 150_000, cwd: work });
  if (r.timedOut) throw new Error(`clawstorm ${args.join(' ')} timed out; stderr:\n${r.stderr}`);
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A P99 over 1,500 calls is the 15th slowest: one stall of a busy host (the file before this one
 * still winding down) moves it more than 40 ms on a third of the calls does. Each run starts
 * once the host has had a second below 40 % busy (at most 60 s; after that it runs anyway).
 */
async function quietHost(): Promise<void> {
  const cores = os.availableParallelism();
  try {
    await waitFor(
      async () => {
        const a = readHostTicks();
        await new Promise((r) => setTimeout(r, 1_000));
        const b = readHostTicks();
        const busy = a && b ? hostBusyBetween(a, b, 1, cores)?.busyFraction : undefined;
        return busy === undefined || busy < 0.4;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'a second with the host below 40 % busy' },
    );
  } catch (err) {
    console.log(`baseline test: ${(err as Error).message}; running anyway`);
  }
}

/** One smoke run of policy evaluation against the shared bed, indexed in this test's own index. */
async function smokeRun(name: string, more: string[] = [], index = INDEX): Promise<{ dir: string; exitCode: number; stderr: string; results: Results }> {
  const dir = path.join(work, 'runs', name);
  await quietHost();
  const r = await clawstorm(['run', SCENARIO, '--profile', 'smoke', '--testbed-state', tb.stateDir, '--out', dir, '--index', index, ...more]);
  if (!fs.existsSync(path.join(dir, 'results.json'))) throw new Error(`${name}: no results (exit ${r.exitCode}):\n${r.stderr}`);
  return { dir, exitCode: r.exitCode, stderr: r.stderr, results: readResults(path.join(dir, 'results.json')) };
}

async function faults(url: string, method: 'PUT' | 'POST', body?: unknown): Promise<void> {
  const r = await fetch(`${url}${method === 'PUT' ? '/admin/faults' : '/admin/faults/reset'}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (r.status >= 300) throw new Error(`${method} ${url}/admin/faults: ${r.status} ${await r.text()}`);
}

afterEach(async () => {
  await Promise.all(tb.gateways.map((g) => faults(g.url, 'POST')));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('baseline comparison on the test bed', () => {
  let base: Awaited<ReturnType<typeof smokeRun>>;

  it('two clean smoke runs: compare finds no regression', async () => {
    // The bed's first minute is not its steady state (new connections, code paths warming up):
    // a nightly job compares warm runs, so this one is thrown away.
    await smokeRun('warm-up', [], 'off');
    base = await smokeRun('clean-1');
    const again = await smokeRun('clean-2');
    const c = await clawstorm(['compare', base.dir, again.dir]);
    expect(c.stdout).toMatch(/\| Policy Evaluation \| latency p99 \|/);
    expect(c.stdout).toMatch(/Evidence: Mann–Whitney p/);
    // A regression here would be a false positive; any other outcome says why in the output.
    expect(c.stdout).not.toMatch(/\| Fail \|/);
    expect(c.exitCode, c.stdout).toBe(0);
    expect(readIndex(INDEX).runs.map((r) => r.runId)).toEqual([base.results.runId, again.results.runId]);
  }, 300_000);

  it('40 ms on one gateway: compare flags policy evaluation as a regression with its evidence, and run --baseline fails it', async () => {
    const victim = tb.gateways[0]!;
    await faults(victim.url, 'PUT', { latencyMs: 40 });
    const slow = await smokeRun('slow', ['--baseline', base.dir]);
    await faults(victim.url, 'POST');

    const c = await clawstorm(['compare', base.dir, slow.dir]);
    expect(c.exitCode, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(/\| Policy Evaluation \| latency p99 \| [\d.]+ ms \| [\d.]+ ms \| \+[\d.]+ % \| High \| Fail \|/);
    expect(c.stdout).toMatch(/latency p99: Fail — P99 .* exceeds \+15 % and the judge finds latency significantly higher.*Evidence: Mann–Whitney p/);

    // The gate's own judgement: a failed baseline threshold (inconclusive only when this busy host was saturated, and then it says so).
    const s = slow.results.scenarios.find((x) => x.name === 'policy-evaluation')!;
    const t = s.thresholds.find((x) => x.name === 'baseline: latency p99');
    expect(t, slow.stderr).toBeDefined();
    if (t!.verdict === 'inconclusive') expect(t!.detail).toMatch(/host saturated|load generator saturated/);
    else {
      expect(t!.verdict, t!.detail).toBe('fail');
      expect(slow.exitCode).toBe(1);
    }
    expect(slow.results.baseline?.runId).toBe(base.results.runId);
    expect(slow.results.baseline?.scenarios[0]?.metrics.find((m) => m.metric === 'latency p99')?.evidence?.test).toBe('mann-whitney');
    const junit = fs.readFileSync(path.join(slow.dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/baseline: latency p99/);
    expect(junit).toMatch(/Evidence: Mann–Whitney p/);

    const entry = readIndex(INDEX).runs.find((r) => r.runId === slow.results.runId)!;
    expect(entry).toMatchObject({ baselineRunId: base.results.runId, regression: t!.verdict === 'fail' });

    // Its events: the lifecycle in order, per-window measurements, the verdict with the regression count.
    const lines = readEventLines(path.join(slow.dir, 'events.ndjson'))!.lines;
    const names = lines.flatMap((l) => (l.type === 'event' ? [l.payload.name] : []));
    expect(names).toEqual(['run_start', 'scenario_start', 'scenario_end', 'verdict', 'run_end']);
    expect(lines.filter((l) => l.type === 'measurement').length).toBeGreaterThanOrEqual(2);
    const verdict = lines.find((l) => l.type === 'event' && l.payload.name === 'verdict');
    expect(verdict?.type === 'event' && verdict.payload.attributes?.regressions).toBe(t!.verdict === 'fail' ? '1' : '0');
    expect(fs.readFileSync(path.join(slow.dir, 'report.html'), 'utf8')).toMatch(/<h2>Run events<\/h2>/);
  }, 300_000);
});
