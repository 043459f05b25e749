// ClawStorm's condition and formula language: the subset of expr-lang that Argo Rollouts analysis
// conditions (`result[0] >= 0.95`) and KEDA `scalingModifiers.formula` (`trig_a ?? 0 + …`) are
// written in. Parsed by jsep (configured in parse.ts), evaluated by our own interpreter; nothing is
// ever turned into JavaScript code.
import { evaluate } from './evaluate.ts';
import { ExprError } from './errors.ts';
import { parseExpr } from './parse.ts';

export { ExprError } from './errors.ts';

export interface CompiledExpr {
  readonly source: string;
  /** Identifiers the expression reads from its environment (for validation: unknown trigger names, missing args). */
  readonly identifiers: readonly string[];
  evaluate(env: Readonly<Record<string, unknown>>): unknown;
}

/** Parses `source`; throws ExprError on a syntax error or a construct the language does not have. */
export function compileExpr(source: string): CompiledExpr {
  const { root, identifiers } = parseExpr(source);
  const frozen = Object.freeze([...identifiers]);
  return {
    source,
    identifiers: frozen,
    evaluate(env) {
      try {
        return evaluate(root, env);
      } catch (err) {
        if (err instanceof ExprError) throw new ExprError(`${err.message} (evaluating ${JSON.stringify(source)})`);
        throw err;
      }
    },
  };
}
