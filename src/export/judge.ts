// The judge's command lines, in one place. A distributed run gets one verdict over all its
// runners, given by `clawstorm judge`; every manifest that starts a judge takes its argv from here,
// so a change of the judge's flags is a change of this file only.

export interface JudgeInvocation {
  /** The run to judge: k6 runs are found by their `testrun_name` label, runners by their results. */
  run: string;
  runners: number;
  /** Scenario files as the judge's pod sees them (pass criteria). */
  scenarios: readonly string[];
  /** Load profile the runners ran. */
  profile: string;
  /** Target profile as the judge's pod sees it (Prometheus URL and token). */
  target: string;
}

/** A k6-operator run: every runner remote-wrote its samples; the judge reads them back from Prometheus. */
export function judgeFromPrometheus(j: JudgeInvocation): string[] {
  return ['clawstorm', 'judge', '--run', j.run, '--runners', String(j.runners), '--from-prometheus', ...common(j)];
}

/**
 * ClawStorm runners: each writes its histograms and counts under the results directory; the judge
 * releases their start barrier once all are ready (when `releaseBarrier` is given), waits for all N
 * (at most `waitUpToS`: a runner that never reports is no data, not a pass) and merges them exactly.
 */
export function judgeFromResults(j: JudgeInvocation & { resultsDir: string; waitUpToS: number; releaseBarrier?: string }): string[] {
  const barrier = j.releaseBarrier === undefined ? [] : ['--release-barrier', j.releaseBarrier];
  return ['clawstorm', 'judge', '--run', j.run, '--runners', String(j.runners), '--results-dir', j.resultsDir, '--wait-up-to', `${Math.ceil(j.waitUpToS)}s`, ...barrier, ...common(j)];
}

function common(j: JudgeInvocation): string[] {
  return ['--profile', j.profile, '--target', j.target, ...j.scenarios.flatMap((s) => ['--scenario', s])];
}
