// One finished run into the run index, from what its results.json says.
import { BASELINE_THRESHOLD_PREFIX, type Results } from '../report/results.ts';
import { appendRun, buildInfo, type RunIndexEntry } from './run-index.ts';

export function indexRun(indexFile: string, r: Pick<Results, 'runId' | 'scenarios' | 'startedAt' | 'endedAt' | 'profile' | 'target' | 'verdict' | 'exitCode' | 'baseline'>, runFolder: string, kind: string): RunIndexEntry {
  // A regression as the verdict counted it: a saturated run's baseline thresholds are inconclusive, not regressions.
  const regression = r.scenarios.some((s) => s.thresholds.some((t) => t.name.startsWith(BASELINE_THRESHOLD_PREFIX) && t.verdict === 'fail'));
  return appendRun(indexFile, {
    runId: r.runId,
    kind,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    profile: r.profile,
    target: r.target,
    verdict: r.verdict,
    exitCode: r.exitCode,
    path: runFolder,
    ...buildInfo(),
    baselineRunId: r.baseline?.runId ?? null,
    regression,
  });
}
