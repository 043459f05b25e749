// The pure parts of the canary ramp: weights per step, the canary-vs-stable judge of a step's
// attributed requests, the capacity- vs code-shaped classification, the results section and
// exit codes, and the report formats rendered from it.
import { describe, expect, it } from 'vitest';
import { classifyFailure, judgeStep, summarise } from '../../../src/canary/judge-step.ts';
import type { Served } from '../../../src/canary/traffic.ts';
import { parseSteps, stepWeights } from '../../../src/canary/weights.ts';
import { canaryResults, canarySection } from '../../../src/canary/results.ts';
import type { CanaryRun } from '../../../src/canary/ramp.ts';
import { parseSimulate, parseSurge } from '../../../src/cli/canary.ts';
import { parseTemplates } from '../../../src/canary/analysis-template.ts';
import { renderMarkdown } from '../../../src/report/markdown.ts';
import { renderJUnit } from '../../../src/report/junit.ts';
import { renderHtml } from '../../../src/report/html.ts';
import { parseResults } from '../../../src/report/results.ts';
import { mulberry32 } from '../../../src/judge/rng.ts';

describe('step weights', () => {
  it('the canary carries the percent, stable servers share the rest; exact for two stable servers', () => {
    expect(stepWeights(['gw-1', 'gw-2', 'gw-3'], 'gw-2', 10)).toEqual({ weights: { 'gw-2': 20, 'gw-1': 90, 'gw-3': 90 }, share: 10 });
    expect(stepWeights(['gw-1', 'gw-2', 'gw-3'], 'gw-2', 100).weights).toEqual({ 'gw-2': 200, 'gw-1': 0, 'gw-3': 0 });
    const odd = stepWeights(['a', 'b', 'c', 'd'], 'a', 30);
    expect(odd.share).toBeCloseTo(30, 0);
    expect(Math.max(...Object.values(odd.weights))).toBeLessThanOrEqual(256);
  });
  it('refuses a canary that is not a server, and a lone canary below 100 %', () => {
    expect(() => stepWeights(['gw-1'], 'gw-9', 10)).toThrow(/not one of/);
    expect(() => stepWeights(['gw-1'], 'gw-1', 10)).toThrow(/stable/);
  });
  it('steps: increasing whole percents within 1–100', () => {
    expect(parseSteps('10,30,50,70,90,100')).toEqual([10, 30, 50, 70, 90, 100]);
    expect(() => parseSteps('10,10')).toThrow(/increase/);
    expect(() => parseSteps('0,50')).toThrow(/1–100/);
    expect(() => parseSteps('12.5')).toThrow();
  });
  it('--simulate names a bad version on the canary', () => {
    expect(parseSimulate('errorRate=0.02@30')).toEqual({ atPercent: 30, patch: { errorRate: 0.02 } });
    expect(parseSimulate('latencyMs=80@50')).toEqual({ atPercent: 50, patch: { latencyMs: 80 } });
    expect(parseSimulate('degraded=true@10')).toEqual({ atPercent: 10, patch: { degraded: true } });
    expect(() => parseSimulate('errorRate=2@30')).toThrow();
    expect(() => parseSimulate('cpu=1@30')).toThrow();
  });
  it('--surge: the load factor (default 2x) and the canary\'s admission change from one step, as data', () => {
    expect(parseSurge('maxInFlight=1@50')).toEqual({ atPercent: 50, loadFactor: 2, admission: { maxInFlight: 1 } });
    expect(parseSurge('load=3x,maxInFlight=2,retryAfterS=2@30')).toEqual({ atPercent: 30, loadFactor: 3, admission: { maxInFlight: 2, retryAfterS: 2 } });
    expect(parseSurge('load=2x@50')).toEqual({ atPercent: 50, loadFactor: 2, admission: {} });
    expect(parseSurge(undefined)).toBeUndefined();
    for (const bad of ['maxInFlight=0@50', 'load=1x@50', 'load=2@50', 'workMs=5@50', 'maxInFlight=1', 'maxInFlight=1.5@50']) expect(() => parseSurge(bad), bad).toThrow(/--surge/);
  });
});

/** Requests over `seconds`, `perSec` a second per server, latency drawn around `ms`. */
function traffic(server: string, opts: { perSec: number; seconds: number; ms: number; errorEvery?: number; rejectEvery?: number; seed?: number }): Served[] {
  const rnd = mulberry32(opts.seed ?? 1);
  const out: Served[] = [];
  let i = 0;
  for (let s = 0; s < opts.seconds; s++) {
    for (let k = 0; k < opts.perSec; k++) {
      i += 1;
      const rejected = opts.rejectEvery !== undefined && i % opts.rejectEvery === 0;
      const error = !rejected && opts.errorEvery !== undefined && i % opts.errorEvery === 0;
      out.push({ at: 1_000_000 + s * 1000 + k, server, latencyMs: rejected ? 1 : opts.ms * (0.8 + 0.4 * rnd()), status: rejected ? 429 : error ? 500 : 200, rejected, kind: 'tool' });
    }
  }
  return out;
}

describe('canary-vs-stable judge of a step', () => {
  const stable = [...traffic('gw-1', { perSec: 10, seconds: 20, ms: 20, seed: 1 }), ...traffic('gw-3', { perSec: 10, seconds: 20, ms: 20, seed: 2 })];
  it('same version → Pass; +80 ms → latency High, critical, score 0', () => {
    const same = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 20, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    expect(same.judge?.classification).toBe('Pass');
    const slow = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 100, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    expect(slow.judge?.classification).toBe('Fail');
    expect(slow.judge?.score).toBe(0);
    expect(slow.judge?.metrics.find((m) => m.name === 'latency-ms')?.classification).toBe('High');
  });
  it('a canary whose admission turns away what stable takes fails the judge (rejected-rate is critical); latency is judged on tool calls only', () => {
    const hooks = (server: string, rejectEvery?: number) => traffic(server, { perSec: 5, seconds: 20, ms: 300, ...(rejectEvery ? { rejectEvery } : {}), seed: 9 }).map((x) => ({ ...x, kind: 'hook' as const }));
    const r = judgeStep([...stable, ...hooks('gw-1'), ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 20, seed: 3 }), ...hooks('gw-2', 3)], 'gw-2', ['gw-1', 'gw-3']);
    expect(r.judge?.metrics.find((m) => m.name === 'rejected-rate')?.classification).toBe('High');
    expect(r.judge?.metrics.find((m) => m.name === 'latency-ms')?.classification).toBe('Pass');
    expect(r.judge?.classification).toBe('Fail');
    expect(classifyFailure(r, []).shape).toBe('capacity-shaped');
  });
  it('milliseconds under the noise floor do not count: 7 ms against 5 ms passes, 90 ms against 5 ms does not', () => {
    const fast = [...traffic('gw-1', { perSec: 20, seconds: 20, ms: 5, seed: 1 })];
    expect(judgeStep([...fast, ...traffic('gw-2', { perSec: 20, seconds: 20, ms: 7, seed: 2 })], 'gw-2', ['gw-1']).judge?.classification).toBe('Pass');
    expect(judgeStep([...fast, ...traffic('gw-2', { perSec: 20, seconds: 20, ms: 90, seed: 2 })], 'gw-2', ['gw-1']).judge?.classification).toBe('Fail');
  });
  it('a 10 % slower canary is within the 15 % the plan allows', () => {
    const r = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 22, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    expect(r.judge?.metrics.find((m) => m.name === 'latency-ms')?.classification).toBe('Pass');
  });
  it('one side without traffic: no comparison (not a pass, not a fail)', () => {
    const r = judgeStep(traffic('gw-2', { perSec: 10, seconds: 5, ms: 20 }), 'gw-2', ['gw-1']);
    expect(r.judge).toBeNull();
    expect(r.skipped).toMatch(/stable servers answered nothing/);
  });
  it('summaries keep admission rejections apart from errors', () => {
    const s = summarise(traffic('gw-2', { perSec: 10, seconds: 10, ms: 20, errorEvery: 25, rejectEvery: 10 }));
    expect(s.requests).toBe(100);
    expect(s.rejected).toBe(10);
    expect(s.errors).toBe(2);
    expect(s.answered).toBe(88);
  });
});

describe('capacity-shaped vs code-shaped', () => {
  const stable = [...traffic('gw-1', { perSec: 10, seconds: 20, ms: 20, seed: 1 }), ...traffic('gw-3', { perSec: 10, seconds: 20, ms: 20, seed: 2 })];
  it('turned away by admission, answers as good as stable → capacity-shaped', () => {
    const j = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 20, rejectEvery: 5, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    const c = classifyFailure(j, []);
    expect(c.shape).toBe('capacity-shaped');
    expect(c.evidence.join(' ')).toMatch(/turned away 20\.00/);
  });
  it('a queue past its limit with answers matching stable → capacity-shaped', () => {
    const j = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 20, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    expect(classifyFailure(j, ['canary-queue-depth: 1 failed measurement(s) > failureLimit 0']).shape).toBe('capacity-shaped');
  });
  it('slower at the same load, no saturation → code-shaped', () => {
    const j = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 100, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    const c = classifyFailure(j, []);
    expect(c.shape).toBe('code-shaped');
    expect(c.evidence.join(' ')).toMatch(/slower than stable/);
  });
  it('saturated but also erring per answered request → code-shaped', () => {
    const j = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 20, ms: 20, rejectEvery: 5, errorEvery: 7, seed: 3 })], 'gw-2', ['gw-1', 'gw-3']);
    expect(classifyFailure(j, []).shape).toBe('code-shaped');
  });
});

describe('results section and report formats', () => {
  const [tpl] = parseTemplates(
    'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n  - name: err\n    interval: 5s\n    count: 2\n    failureLimit: 1\n    successCondition: result[0] <= 0.005\n    provider: {prometheus: {query: up}}',
    't.yaml',
  );
  const stable = [...traffic('gw-1', { perSec: 10, seconds: 10, ms: 20, seed: 1 })];
  const judgement = judgeStep([...stable, ...traffic('gw-2', { perSec: 10, seconds: 10, ms: 100, seed: 2 })], 'gw-2', ['gw-1']);
  const t0 = Date.parse('2026-11-29T10:00:00Z');
  const run: CanaryRun = {
    canary: 'gw-2',
    server: 'gw-2',
    stable: ['gw-1'],
    startedAt: t0,
    endedAt: t0 + 25_000,
    steps: [
      {
        index: 0,
        percent: 10,
        share: 10,
        weights: { 'gw-2': 20, 'gw-1': 180 },
        startedAt: t0,
        endedAt: t0 + 10_000,
        analysis: { phase: 'Failed', reason: 'err: 2 failed', startedAt: t0, endedAt: t0 + 10_000, interrupted: false, dryRunSummary: {}, metrics: [{ name: 'err', template: 't', phase: 'Failed', message: '2 failed', dryRun: false, query: 'up', counters: { count: 2, successful: 0, failed: 2, inconclusive: 0, error: 0, consecutiveError: 0, consecutiveSuccess: 0, consecutiveFailed: 2 }, measurements: [{ phase: 'Failed', value: '[0.02]', detail: 'x', at: t0 + 5000 }, { phase: 'Failed', value: '[0.03]', detail: 'x', at: t0 + 10_000 }] }] },
        judgement,
        judgePhase: 'Failed',
        phase: 'Failed',
        injected: 'bad version simulated on gw-2: {"latencyMs":80}',
        surge: null,
      },
    ],
    verdict: 'abort',
    reason: 'step 10 % Failed',
    classification: classifyFailure(judgement, []),
    abortedAt: t0 + 10_200,
    rolledBackAt: t0 + 10_400,
    canaryWeightAfter: 0,
    rollbackProblems: [],
    badStepStartedAt: t0,
    interrupted: false,
    requests: 200,
  };
  const section = canarySection(run, [tpl!], [10, 50, 100]);
  it('times from the bad step: seconds to the rollback, analysis windows to the abort', () => {
    expect(section.badStepToRollbackSeconds).toBeCloseTo(10.4);
    expect(section.badStepToAbortWindows).toBeCloseTo(2.04);
    expect(section.steps[0]!.metrics[0]!.measurements.map((m) => m.phase)).toEqual(['Failed', 'Failed']);
  });
  it('abort and hold-and-scale exit 1, inconclusive 3, promote 0; a rollback problem is never a clean pass', () => {
    const r = parseResults(canaryResults({ runId: 'r', target: 'local', section }), 'x');
    expect([r.verdict, r.exitCode]).toEqual(['fail', 1]);
    expect(canaryResults({ runId: 'r', target: 'x', section: { ...section, verdict: 'hold-and-scale' } }).exitCode).toBe(1);
    expect(canaryResults({ runId: 'r', target: 'x', section: { ...section, verdict: 'inconclusive' } }).exitCode).toBe(3);
    expect(canaryResults({ runId: 'r', target: 'x', section: { ...section, verdict: 'promote' } }).exitCode).toBe(0);
    expect(canaryResults({ runId: 'r', target: 'x', section: { ...section, verdict: 'promote', rollbackProblems: ['x'] } }).exitCode).toBe(3);
  });
  it('results.md, junit (a case per step and metric, and the judge), report.html', () => {
    const r = parseResults(canaryResults({ runId: 'r', target: 'local', section }), 'x');
    const md = renderMarkdown(r);
    expect(md).toContain('## Canary analysis');
    expect(md).toContain('**code-shaped**');
    expect(md).toMatch(/\| err \| Failed \| \[0\.02\] Failed, \[0\.03\] Failed \|/);
    const junit = renderJUnit(r);
    expect(junit).toContain('name="10 %: err"');
    expect(junit).toContain('name="10 %: canary vs stable judge"');
    expect((junit.match(/<failure /g) ?? []).length).toBe(2);
    const html = renderHtml(r);
    expect(html).toContain('<h2>Canary analysis</h2>');
    expect(html).toContain('aria-label="canary weight steps and analysis measurements"');
  });
  it('a surge step is labelled a capacity surge (not a bad version) with what it changed', () => {
    const surged = { ...section, verdict: 'hold-and-scale' as const, steps: section.steps.map((s) => ({ ...s, injected: 'capacity surge: offered load ×2 (20 → 40 req/s); gw-2 admission {"maxInFlight":1}', surge: { loadFactor: 2, offeredBefore: 20, offeredAfter: 40, admission: { maxInFlight: 1 } } })) };
    const r = parseResults(canaryResults({ runId: 'r', target: 'local', section: surged }), 'x');
    expect(r.canary!.steps[0]!.surge).toEqual({ loadFactor: 2, offeredBefore: 20, offeredAfter: 40, admission: { maxInFlight: 1 } });
    const md = renderMarkdown(r);
    expect(md).toContain('10 % (capacity surge)');
    expect(md).not.toContain('(bad version)');
    expect(md).toContain('- capacity surge: offered load ×2 (20 → 40 req/s)');
    expect(renderHtml(r)).toContain('10 % (capacity surge)');
    // A results.json written before surges existed still reads: no surge at any step.
    const old = JSON.parse(JSON.stringify(canaryResults({ runId: 'r', target: 'local', section }))) as { canary: { steps: Array<Record<string, unknown>> } };
    for (const st of old.canary.steps) delete st.surge;
    expect(parseResults(old, 'x').canary!.steps[0]!.surge).toBeNull();
  });
});
