// `figure op value` criteria — drills, storms and canaries state their pass conditions over the
// figures they measured this way — judged into threshold results. A figure that was not measured (null, missing, NaN) is no data with the reason, never a
// pass and never a zero. (Their status words: ./status.ts.)
import type { CompareOp } from '../config/common.ts';
import { compare, type ThresholdResult, type ThresholdSource } from './types.ts';

export interface Criterion {
  name: string;
  figure: string;
  op: CompareOp;
  value: number;
  /** Where the figure came from: the harness's own measurement, or a PromQL query. */
  source?: ThresholdSource;
}

export function judgeCriterion(c: Criterion, observed: unknown, whyMissing = 'not measured'): ThresholdResult {
  const expr = `${c.figure} ${c.op} ${c.value}`;
  const base = { name: c.name, source: c.source ?? ('client' as const), expr };
  if (typeof observed !== 'number' || Number.isNaN(observed)) {
    return { ...base, observed: null, verdict: 'no_data', detail: `${c.figure}: ${whyMissing}` };
  }
  const ok = compare(observed, c.op, c.value);
  return { ...base, observed, verdict: ok ? 'pass' : 'fail', detail: `${c.figure} = ${observed} ${ok ? 'meets' : 'violates'} ${c.op} ${c.value}` };
}
