// One status vocabulary. A threshold's verdict is computed once, where it is measured (a
// saturated generator turns its client-side verdicts into inconclusive there, not in each
// renderer), and every format — console, results.md, junit, report.html, the filled template —
// shows it with the same word from here.
//
//   pass → Pass · fail → Fail · inconclusive → Inconclusive (with its reason) · no_data → No data
//   a scenario that did not run → Not run · a metric row that does not gate → "… (not gating)"
//   an inconclusive scenario, drill or storm → "Inconclusive (why; …)": inconclusive alone says
//   nothing a reader can act on, so its reasons travel with the word.
import type { ThresholdResult, Verdict } from './types.ts';
import { overallVerdict, type OverallVerdict } from './verdict.ts';

export type StatusWord = 'Pass' | 'Fail' | 'Inconclusive' | 'No data' | 'Not run';
export type RunStatus = Exclude<StatusWord, 'Not run'>;

export function statusOfVerdict(v: OverallVerdict | Verdict): RunStatus {
  switch (v) {
    case 'pass':
      return 'Pass';
    case 'fail':
      return 'Fail';
    case 'inconclusive':
      return 'Inconclusive';
    case 'no_data':
      return 'No data';
  }
}

/** A verdict as a console line's first column: the same words, padded so lines align. */
export function statusColumn(v: Verdict, gated = true): string {
  return statusText(statusOfVerdict(v), gated).padEnd(gated ? 12 : 25);
}

/** A status as shown where a row may not count toward the verdict. */
export function statusText(word: StatusWord, gated = true): string {
  return gated ? word : `${word} (not gating)`;
}

/** A run, scenario, drill or storm status as every format shows it: an inconclusive one says why. */
export function statusWithReasons(word: StatusWord, reasons: readonly string[] | undefined): string {
  return word === 'Inconclusive' && reasons !== undefined && reasons.length > 0 ? `${word} (${reasons.join('; ')})` : word;
}

/** The status of a list of thresholds (a drill, a storm), by the same rules as the exit code. */
export function statusOf(thresholds: readonly Pick<ThresholdResult, 'verdict' | 'source'>[], aborted: boolean): RunStatus {
  return statusOfVerdict(overallVerdict({ thresholds: [...thresholds], aborted }).verdict);
}

/**
 * Client-side verdicts measured by a saturated load generator are not results (plan §9): each
 * becomes inconclusive, saying what it measured. No data stays no data; server-side (PromQL)
 * verdicts stand — the server did what it did, whatever the client's state.
 */
export function applySaturation<T extends Pick<ThresholdResult, 'verdict' | 'source' | 'detail'>>(thresholds: readonly T[], saturated: boolean, who = 'load generator saturated'): T[] {
  if (!saturated) return [...thresholds];
  return thresholds.map((t) =>
    t.source === 'client' && t.verdict !== 'no_data' && t.verdict !== 'inconclusive'
      ? { ...t, verdict: 'inconclusive' as const, detail: `${who} (measured ${t.verdict}): ${t.detail}` }
      : t,
  );
}
