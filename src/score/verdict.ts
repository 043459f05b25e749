// Combining threshold verdicts into the run's verdict and exit code (plan §9):
//   0 all pass · 1 a threshold failed · 2 usage/config error · 3 no data or inconclusive.
//
// Precedence: fail > inconclusive > no_data > pass.
// A failed threshold beats missing data because it is a measured fact about the system: if one
// check failed and another had no data, the release is blocked either way, but exit 3 reads as
// "the measurement broke, retry" and a retry could hide a real regression behind a flaky
// exporter. Exit 1 tells CI the truth it does know.
//
// Two things lower what a run may claim:
// - a saturated load generator: client-side numbers were measured by an overloaded client, so a
//   client threshold's pass *or* fail says nothing — both become inconclusive. Server-side
//   (PromQL) failures stay failures: the server did fail, whatever the client's state.
// - an aborted run: it cannot pass (part of it never ran); failures seen so far still count.
import { PromError } from '../prom/client.ts';
import type { ThresholdSource, Verdict } from './types.ts';

export type OverallVerdict = Verdict;

export const EXIT = { pass: 0, fail: 1, usage: 2, noData: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface VerdictInput {
  thresholds: { verdict: Verdict; source: ThresholdSource; name?: string }[];
  /** The load generator could not keep its schedule (plan §9). */
  saturated?: boolean;
  aborted?: boolean;
  /**
   * Parts of the run that never reported (a distributed run's missing runners), one line each.
   * Like an abort: the run cannot pass, failures measured on the rest still count.
   */
  incomplete?: string[];
}

export interface OverallResult {
  verdict: OverallVerdict;
  exitCode: ExitCode;
  /** Why the verdict is what it is, one short line each. */
  reasons: string[];
}

const RANK: Record<OverallVerdict, number> = { pass: 0, no_data: 1, inconclusive: 2, fail: 3 };

export function worstVerdict(vs: OverallVerdict[]): OverallVerdict {
  let worst: OverallVerdict = 'pass';
  for (const v of vs) if (RANK[v] > RANK[worst]) worst = v;
  return worst;
}

export function overallVerdict(input: VerdictInput): OverallResult {
  const reasons: string[] = [];
  const effective: OverallVerdict[] = [];
  let downgraded = 0;
  for (const t of input.thresholds) {
    if (input.saturated && t.source === 'client' && t.verdict !== 'no_data') {
      downgraded += 1;
      effective.push('inconclusive');
    } else {
      effective.push(t.verdict);
    }
  }
  const count = (v: OverallVerdict) => effective.filter((e) => e === v).length;
  if (count('fail') > 0) reasons.push(`${count('fail')} threshold(s) failed`);
  if (downgraded > 0) reasons.push(`load generator saturated: ${downgraded} client-side result(s) not trusted`);
  if (count('inconclusive') > downgraded) reasons.push(`${count('inconclusive') - downgraded} threshold(s) inconclusive`);
  if (count('no_data') > 0) reasons.push(`${count('no_data')} threshold(s) had no data`);

  let verdict: OverallVerdict = input.thresholds.length === 0 ? 'no_data' : worstVerdict(effective);
  if (input.thresholds.length === 0) reasons.push('no thresholds were evaluated');
  if (input.saturated && verdict === 'pass') verdict = 'inconclusive';
  if (input.aborted) {
    reasons.push('run aborted before completion');
    if (verdict === 'pass' || verdict === 'no_data') verdict = 'inconclusive';
  }
  if (input.incomplete !== undefined && input.incomplete.length > 0) {
    reasons.push(...input.incomplete);
    if (verdict === 'pass' || verdict === 'no_data') verdict = 'inconclusive';
  }
  return { verdict, exitCode: exitCodeFor(verdict), reasons };
}

export function exitCodeFor(v: OverallVerdict): ExitCode {
  switch (v) {
    case 'pass':
      return EXIT.pass;
    case 'fail':
      return EXIT.fail;
    case 'no_data':
    case 'inconclusive':
      return EXIT.noData;
  }
}

/**
 * Exit code for an error that ended the run early: an unreachable Prometheus or target means
 * nothing could be measured (3); a PromQL syntax error is config (2); anything carrying `exitCode` (config and profile errors carry
 * 2) uses it; every other error is treated as usage/config (2).
 */
export function exitCodeForError(err: unknown): ExitCode {
  // A query Prometheus rejects as malformed is the profile's fault; a query that timed out or
  // a server that did not answer means nothing was measured.
  if (err instanceof PromError) return err.kind === 'query' && err.errorType === 'bad_data' ? EXIT.usage : EXIT.noData;
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  if (code === 0 || code === 1 || code === 2 || code === 3) return code;
  return EXIT.usage;
}
