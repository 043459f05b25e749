// Shapes shared by client-side and PromQL thresholds (mirrored by the zod schema of results.json).
import type { CompareOp } from '../config/common.ts';

/**
 * A threshold's verdict: measured and met, measured and violated, measured but not to be trusted
 * (inconclusive — a saturated generator, a hypothesis that mostly measured nothing), or nothing
 * measured at all.
 */
export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'no_data';

export interface RegressionOutcome {
  maxIncreasePct: number;
  /** The same threshold's observed value in the baseline results, null when it had none. */
  baseline: number | null;
  /** (observed − baseline) / |baseline| × 100; null when either side is missing. */
  changePct: number | null;
  verdict: Verdict;
}

/**
 * Where a threshold's observation comes from: timed or counted by the harness's own client
 * (`client`), a PromQL query (`promql`), or a state the system reports about itself and the
 * harness only reads (`server`: a gateway's composite probe, the load balancer's view). Only
 * `client` observations are distrusted when the load generator saturates.
 */
export type ThresholdSource = 'client' | 'promql' | 'server';

export interface ThresholdResult {
  name: string;
  source: ThresholdSource;
  /** Client: the expression (`p(95)<100ms`); PromQL: `<query> < value`. */
  expr: string;
  /** PromQL thresholds: the query as sent (placeholders substituted). */
  query?: string;
  /** The worst observed value (latency in ms for client thresholds); null when there was none. */
  observed: number | null;
  unit?: string;
  verdict: Verdict;
  /** One line saying why: what was compared, which series was worst, why there is no data. */
  detail: string;
  regression?: RegressionOutcome;
}

export function compare(observed: number, op: CompareOp, value: number): boolean {
  switch (op) {
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
    case '==':
      return observed === value;
    case '!=':
      return observed !== value;
  }
}

/** The comparison that holds exactly when `op` does not (alert condition → pass condition). */
export function negate(op: CompareOp): CompareOp {
  const map: Record<CompareOp, CompareOp> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' };
  return map[op];
}

/**
 * Of two values, the one further on the failing side of `op value`: the larger for `<`/`<=`,
 * the smaller for `>`/`>=`, the further from `value` for `==`, the closer for `!=`.
 */
export function worse(a: number, b: number, op: CompareOp, value: number): number {
  switch (op) {
    case '<':
    case '<=':
      return b > a ? b : a;
    case '>':
    case '>=':
      return b < a ? b : a;
    case '==':
      return Math.abs(b - value) > Math.abs(a - value) ? b : a;
    case '!=':
      return Math.abs(b - value) < Math.abs(a - value) ? b : a;
  }
}
