// A canary ramp as a results document: the `canary` section, and the verdict and exit code the
// ramp's verdict means (promote 0 · abort and hold-and-scale 1 · inconclusive 3).
import { CanarySectionSchema, type CanarySection } from '../report/canary-schema.ts';
import { RESULTS_SCHEMA, type ResultsInput } from '../report/results.ts';
import { effectiveCount } from '../score/track.ts';
import type { AnalysisTemplate } from './analysis-template.ts';
import type { CanaryRun, CanaryVerdict } from './ramp.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);

/** The analysis window: the longest interval of a bounded, decisive metric (the plan template's `window`). */
export function analysisWindowMs(templates: readonly AnalysisTemplate[]): number | null {
  const ms = templates.flatMap((t) => t.metrics).filter((m) => !m.track.dryRun && effectiveCount(m.track) !== undefined).map((m) => m.track.intervalMs ?? 0);
  const w = Math.max(0, ...ms);
  return w > 0 ? w : null;
}

export function canarySection(run: CanaryRun, templates: readonly AnalysisTemplate[], plannedSteps: readonly number[]): CanarySection {
  const last = run.steps.at(-1);
  const bad = run.badStepStartedAt ?? (run.verdict === 'abort' || run.verdict === 'hold-and-scale' ? (last?.startedAt ?? null) : null);
  const win = analysisWindowMs(templates);
  return CanarySectionSchema.parse({
    canary: run.canary,
    server: run.server,
    stable: run.stable,
    plannedSteps: [...plannedSteps],
    templates: templates.map((t) => ({ name: t.name, kind: t.kind, source: t.source, args: t.args })),
    verdict: run.verdict,
    reason: run.reason,
    classification: run.classification,
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
    abortedAt: run.abortedAt === null ? null : iso(run.abortedAt),
    rolledBackAt: run.rolledBackAt === null ? null : iso(run.rolledBackAt),
    badStepToRollbackSeconds: bad === null || run.rolledBackAt === null ? null : (run.rolledBackAt - bad) / 1000,
    badStepToAbortWindows: bad === null || run.abortedAt === null || win === null ? null : (run.abortedAt - bad) / win,
    canaryWeightAfter: run.canaryWeightAfter,
    rollbackProblems: run.rollbackProblems,
    requests: run.requests,
    steps: run.steps.map((s) => ({
      percent: s.percent,
      share: s.share,
      weights: s.weights,
      startedAt: iso(s.startedAt),
      endedAt: iso(s.endedAt),
      phase: s.phase,
      analysisPhase: s.analysis.phase,
      analysisReason: s.analysis.reason,
      injected: s.injected,
      surge: s.surge,
      metrics: s.analysis.metrics.map((m) => ({
        name: m.name,
        template: m.template,
        phase: m.phase,
        message: m.message,
        dryRun: m.dryRun,
        query: m.query,
        measurements: m.measurements.map((x) => ({ at: iso(x.at), phase: x.phase, value: x.value === null ? null : String(x.value), detail: x.detail })),
      })),
      judge:
        s.judgement.judge === null
          ? null
          : {
              score: s.judgement.judge.score,
              classification: s.judgement.judge.classification,
              reason: s.judgement.judge.reason,
              metrics: s.judgement.judge.metrics.map((m) => ({ name: m.name, classification: m.classification, deviation: finite(m.deviation), reason: m.reason })),
            },
      judgeSkipped: s.judgement.skipped,
      canary: { ...s.judgement.canary },
      stable: { ...s.judgement.stable },
    })),
  });
}

const VERDICT: Record<CanaryVerdict, { verdict: 'pass' | 'fail' | 'inconclusive'; exitCode: 0 | 1 | 3 }> = {
  promote: { verdict: 'pass', exitCode: 0 },
  abort: { verdict: 'fail', exitCode: 1 },
  'hold-and-scale': { verdict: 'fail', exitCode: 1 },
  inconclusive: { verdict: 'inconclusive', exitCode: 3 },
};

export function canaryResults(o: { runId: string; target: string; section: CanarySection; profile?: string }): ResultsInput {
  const v = VERDICT[o.section.verdict];
  const problems = o.section.rollbackProblems.length > 0 ? [`rollback incomplete: ${o.section.rollbackProblems.join('; ')}`] : [];
  return {
    schema: RESULTS_SCHEMA,
    runId: o.runId,
    startedAt: o.section.startedAt,
    endedAt: o.section.endedAt,
    profile: o.profile ?? 'canary',
    target: o.target,
    // A rollback that did not finish leaves the fleet changed: never a clean verdict.
    verdict: problems.length > 0 && v.verdict === 'pass' ? 'inconclusive' : v.verdict,
    exitCode: problems.length > 0 && v.exitCode === 0 ? 3 : v.exitCode,
    aborted: o.section.verdict !== 'promote',
    ...(o.section.verdict !== 'promote' ? { abortReason: o.section.reason } : {}),
    reasons: [`canary ${o.section.verdict}${o.section.classification ? ` (${o.section.classification.shape})` : ''}: ${o.section.reason}`, ...problems],
    scenarios: [],
    generator: { saturated: false },
    canary: o.section,
  };
}
