// The canary ramp: traffic runs the whole time; at each step the canary's share is set (HAProxy
// weights through the runtime API on the test bed, the profile's canary.setWeight command on a
// real fleet), journalled with its undo before it is made; then the analysis runs (the Argo
// templates) and the judge compares canary with stable over the step's window. The first step
// that is not Successful ends the ramp:
//   Failed, code-shaped              → abort: canary weight 0, stable weights back (exit 1)
//   Failed, capacity-shaped          → hold and scale: the ramp stops, weights rolled back (exit 1)
//   Inconclusive, Error, interrupted → rolled back (exit 3). Argo aborts a rollout on Error too;
//                                      here a metric that could not be measured is no evidence
//                                      about the canary, so the verdict says so instead of "bad".
// Every step Successful → promote (exit 0): on the test bed every server gets its own weight back
// (the canary runs the same build there); on a real fleet the profile's canary.promote runs.
import { applyUndo, gatewayFaults, hooksAdmission, journalled, lbWeight, canaryWeightCommand, runCommand, type AdmissionPatch, type FaultPatch } from '../faults/actions.ts';
import type { Journal } from '../faults/journal.ts';
import { rollback } from '../faults/rollback.ts';
import { setWeight, showServersState } from '../lb/runtime.ts';
import { worstPhase, type MetricPhase } from '../score/track.ts';
import { gatewayOf, type ChaosTarget } from '../target/target.ts';
import { runAnalysis, type AnalysisRun } from './analysis.ts';
import type { AnalysisTemplate } from './analysis-template.ts';
import { classifyFailure, judgeStep, type Classification, type StepJudgement } from './judge-step.ts';
import { CanaryTraffic } from './traffic.ts';
import { stepWeights } from './weights.ts';

export type CanaryVerdict = 'promote' | 'abort' | 'hold-and-scale' | 'inconclusive';

export interface StepRecord {
  index: number;
  percent: number;
  /** The canary's share the weights give. */
  share: number;
  weights: Record<string, number>;
  startedAt: number;
  endedAt: number;
  analysis: AnalysisRun;
  judgement: StepJudgement;
  /** The judge's score as an Argo phase (Kayenta provider: pass → Successful, marginal → Inconclusive, else Failed). */
  judgePhase: MetricPhase | null;
  phase: MetricPhase;
  /** What was done to the canary at this step besides its weight (a simulated bad version, a capacity surge). */
  injected: string | null;
  /** The capacity surge that started at this step; null at every other step. */
  surge: SurgeRecord | null;
}

/** A capacity surge as it ran: the offered load before and after, the canary's admission change. */
export interface SurgeRecord {
  loadFactor: number;
  offeredBefore: number;
  offeredAfter: number;
  admission: AdmissionPatch;
}

/**
 * A capacity surge from one step on (declarative, like `simulate`): the judged traffic's offered
 * load becomes `loadFactor` times its rate, and the canary's admission settings (reference
 * gateways' PUT /admin/hooks: `maxInFlight` bounds its requests in flight, tool calls included)
 * are changed — journalled with their undo, put back on rollback and on promote.
 */
export interface SurgeSpec {
  atPercent: number;
  loadFactor: number;
  admission: AdmissionPatch;
}

export interface CanaryRun {
  canary: string;
  server: string;
  stable: string[];
  startedAt: number;
  endedAt: number;
  steps: StepRecord[];
  verdict: CanaryVerdict;
  reason: string;
  classification: Classification | null;
  /** When the ramp stopped and when the rollback finished (ms); null on promote. */
  abortedAt: number | null;
  rolledBackAt: number | null;
  /** The canary's weight read back after the rollback (test bed); null where it cannot be read. */
  canaryWeightAfter: number | null;
  rollbackProblems: string[];
  /** The step a simulated fault started at (for "time from the bad step to the abort"). */
  badStepStartedAt: number | null;
  interrupted: boolean;
  requests: number;
}

export interface CanaryOptions {
  target: ChaosTarget;
  /** Gateway name (or its load balancer server name). */
  canary: string;
  steps: readonly number[];
  templates: readonly AnalysisTemplate[];
  traffic: { rate: number; tool: string; timeoutMs: number; runId: string; hooksRate?: number };
  journal: Journal;
  /** A step whose analysis is still running then is ended (its unbounded metrics Successful). */
  stepTimeoutMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** A bad version simulated on the canary from the step with this percent (reference gateways' fault controls). */
  simulate?: { atPercent: number; patch: FaultPatch };
  /** A capacity surge from the step with this percent. */
  surge?: SurgeSpec;
  /** Called when a step starts (tests inject their own faults here). */
  onStep?: (percent: number, index: number) => Promise<void> | void;
  /** Saturation-shaped metric names (queue) used by the classification. */
  saturationMetrics?: readonly string[];
}

const JUDGE_PHASE: Record<string, MetricPhase> = { Pass: 'Successful', Marginal: 'Inconclusive', Fail: 'Failed' };
const DEFAULT_SATURATION = ['canary-queue-depth', 'canary-queue-growth'];
const SETTLE_MS = 1_000;

function resolveCanary(t: ChaosTarget, name: string) {
  const g = t.gateways.find((x) => x.name === name || x.server === name) ?? gatewayOf(t, name);
  return { gateway: g.name, server: g.server, stable: t.gateways.filter((x) => x.name !== g.name) };
}

export async function runCanary(o: CanaryOptions): Promise<CanaryRun> {
  const t = o.target;
  const c = resolveCanary(t, o.canary);
  const servers = [c.server, ...c.stable.map((g) => g.server)];
  const token = t.tokens.gateway ?? '';
  const traffic = new CanaryTraffic(t.lbUrl, { ...o.traffic, token, ...(t.tokens.hook !== undefined ? { hookToken: t.tokens.hook } : {}) });
  const original = t.haproxy === undefined ? undefined : new Map((await showServersState(t.haproxy)).map((s) => [s.name, s.weight]));
  const run: CanaryRun = {
    canary: c.gateway,
    server: c.server,
    stable: c.stable.map((g) => g.name),
    startedAt: Date.now(),
    endedAt: 0,
    steps: [],
    verdict: 'inconclusive',
    reason: '',
    classification: null,
    abortedAt: null,
    rolledBackAt: null,
    canaryWeightAfter: null,
    rollbackProblems: [],
    badStepStartedAt: null,
    interrupted: false,
    requests: 0,
  };
  traffic.start(o.steps.length * o.stepTimeoutMs + 60_000);
  try {
    for (const [index, percent] of o.steps.entries()) {
      if (o.signal.aborted) break;
      const startedAt = Date.now();
      const w = stepWeights(servers, c.server, percent);
      o.log(`step ${index + 1}/${o.steps.length}: canary ${c.gateway} at ${percent} % (weights ${Object.entries(w.weights).map(([s, x]) => `${s}=${x}`).join(' ')})`);
      await setStepWeights(o, c, w.weights, percent, index);
      let injected: string | null = null;
      if (o.simulate !== undefined && o.simulate.atPercent === percent) {
        await gatewayFaults(t, o.journal, `step ${percent}%`, c.gateway, o.simulate.patch);
        injected = `bad version simulated on ${c.gateway}: ${JSON.stringify(o.simulate.patch)}`;
        run.badStepStartedAt = startedAt;
        o.log(`step ${percent} %: ${injected}`);
      }
      let surge: SurgeRecord | null = null;
      if (o.surge !== undefined && o.surge.atPercent === percent) {
        const sp = o.surge;
        if (Object.keys(sp.admission).length > 0) await hooksAdmission(t, o.journal, `step ${percent}%`, c.gateway, sp.admission);
        const offeredBefore = traffic.offeredRate;
        traffic.surge(sp.loadFactor);
        surge = { loadFactor: sp.loadFactor, offeredBefore, offeredAfter: traffic.offeredRate, admission: { ...sp.admission } };
        const what = `capacity surge: offered load ×${sp.loadFactor} (${offeredBefore} → ${traffic.offeredRate} req/s)${Object.keys(sp.admission).length > 0 ? `; ${c.gateway} admission ${JSON.stringify(sp.admission)}` : ''}`;
        injected = injected === null ? what : `${injected}; ${what}`;
        run.badStepStartedAt ??= startedAt;
        o.log(`step ${percent} %: ${what}`);
      }
      await o.onStep?.(percent, index);
      const analysis = await runAnalysis(o.templates, {
        ...(t.prom ? { prom: t.prom } : {}),
        signal: o.signal,
        deadlineMs: startedAt + o.stepTimeoutMs,
        onMeasurement: (metric, m) => o.log(`  ${metric}: ${m.phase}${m.value === null ? '' : ` (${m.value})`}${m.phase === 'Successful' ? '' : ` — ${m.detail}`}`),
      });
      const endedAt = Date.now();
      // Answers in the step's first second may belong to requests routed under the previous weights.
      const judgement = judgeStep(traffic.window(startedAt + SETTLE_MS, endedAt), c.server, c.stable.map((g) => g.server));
      const judgePhase = judgement.judge === null ? null : (JUDGE_PHASE[judgement.judge.classification] ?? 'Inconclusive');
      const phase = worstPhase([analysis.phase, ...(judgePhase === null ? [] : [judgePhase])]);
      run.steps.push({ index, percent, share: w.share, weights: w.weights, startedAt, endedAt, analysis, judgement, judgePhase, phase, injected, surge });
      o.log(`step ${percent} %: analysis ${analysis.phase}${analysis.reason ? ` (${analysis.reason})` : ''}; judge ${judgement.judge === null ? `not run (${judgement.skipped})` : `${judgement.judge.score} ${judgement.judge.classification}`} → ${phase}`);
      if (analysis.interrupted || o.signal.aborted) {
        run.interrupted = true;
        break;
      }
      if (phase !== 'Successful') break;
    }
  } catch (err) {
    run.reason = `the ramp stopped on an error: ${(err as Error).message}`;
    run.interrupted = true;
  }
  const last = run.steps.at(-1);
  const allPassed = !run.interrupted && run.steps.length === o.steps.length && run.steps.every((s) => s.phase === 'Successful');
  if (allPassed) {
    run.verdict = 'promote';
    run.reason = `every step of ${o.steps.join(', ')} % was Successful`;
    await promote(o, c.gateway, original, run);
  } else {
    run.abortedAt = Date.now();
    if (run.interrupted) {
      run.verdict = 'inconclusive';
      run.reason ||= o.signal.aborted ? 'interrupted: rolled back before the ramp finished' : 'the ramp stopped before its last step';
    } else if (last !== undefined && last.phase === 'Failed') {
      const saturation = last.analysis.metrics.filter((m) => (o.saturationMetrics ?? DEFAULT_SATURATION).includes(m.name) && (m.phase === 'Failed' || m.phase === 'Error')).map((m) => `${m.name}: ${m.message}`);
      const why = last.analysis.phase !== 'Successful' ? `analysis ${last.analysis.phase}: ${last.analysis.reason}` : `judge ${last.judgement.judge?.classification} (score ${last.judgement.judge?.score})${last.judgement.judge?.reason ? `: ${last.judgement.judge.reason}` : ''}`;
      const shaped = classifyFailure(last.judgement, saturation);
      run.classification = { shape: shaped.shape, evidence: [`the step failed on ${why}`, ...shaped.evidence] };
      run.verdict = run.classification.shape === 'code-shaped' ? 'abort' : 'hold-and-scale';
      run.reason = `step ${last.percent} % ${last.phase} (${why}); ${run.classification.shape}`;
    } else {
      run.verdict = 'inconclusive';
      run.reason = last === undefined ? 'no step ran' : `step ${last.percent} % ${last.phase}: ${last.analysis.reason || `judge ${last.judgement.judge?.classification ?? 'not run'}`}`;
    }
    o.log(`canary ${run.verdict}: ${run.reason}; rolling back`);
    const rb = await rollback(o.journal, t, o.log);
    run.rolledBackAt = Date.now();
    run.rollbackProblems = rb.failed;
    if (t.haproxy !== undefined) {
      run.canaryWeightAfter = (await showServersState(t.haproxy).catch(() => [])).find((s) => s.name === c.server)?.weight ?? null;
    }
  }
  await traffic.stop();
  run.requests = traffic.served.length;
  run.endedAt = Date.now();
  return run;
}

/** One step's weights, each change journalled with its undo (canary → 0, stable → what it had). */
async function setStepWeights(o: CanaryOptions, c: ReturnType<typeof resolveCanary>, weights: Record<string, number>, percent: number, index: number): Promise<void> {
  const t = o.target;
  const step = `step ${index + 1} (${percent}%)`;
  if (t.haproxy !== undefined) {
    // Stable servers first: the canary's share never overshoots while the weights change.
    for (const g of c.stable) await lbWeight(t, o.journal, step, g.server, weights[g.server]!);
    const lb = t.haproxy;
    await journalled(o.journal, step, `haproxy ${c.server} weight ${weights[c.server]} (canary ${percent}%)`, { kind: 'lb.weight', server: c.server, weight: 0 }, () => setWeight(lb, c.server, weights[c.server]!));
    return;
  }
  await journalled(o.journal, step, `canary ${c.gateway} weight ${percent}% (profile command)`, { kind: 'canary.weight', gateway: c.gateway, percent: 0 }, () =>
    runCommand(canaryWeightCommand(t, c.gateway, percent), `canary ${c.gateway} weight ${percent}%`),
  );
}

async function promote(o: CanaryOptions, gateway: string, original: Map<string, number> | undefined, run: CanaryRun): Promise<void> {
  const t = o.target;
  const j = o.journal;
  // Undo the simulated faults and a surge's admission change (none on a clean canary) but not
  // the weights: those are promoted.
  try {
    if (t.haproxy !== undefined && original !== undefined) {
      const lb = t.haproxy;
      for (const [server, weight] of original) await setWeight(lb, server, weight);
      o.log(`promoted: every server back at its own weight (${[...original].map(([s, w]) => `${s}=${w}`).join(' ')})`);
    } else if (t.profile.canary?.promote !== undefined) {
      await runCommand(t.profile.canary.promote, `canary ${gateway} promote`);
      o.log(`promoted: ${gateway} (profile command)`);
    }
    // The weights were handed over above; anything else the ramp changed is put back.
    for (const e of j.pending()) {
      if (e.undo.kind !== 'lb.weight' && e.undo.kind !== 'canary.weight') o.log(`rollback: ${e.step}: ${await applyUndo(t, e.undo)}`);
      j.mark(e.id, 'rolled-back');
    }
    j.setStatus('rolled-back');
  } catch (err) {
    run.rollbackProblems.push(`promotion: ${(err as Error).message}`);
    const rb = await rollback(j, t, o.log);
    run.rollbackProblems.push(...rb.failed);
  }
}
