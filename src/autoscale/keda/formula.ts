// KEDA's scalingModifiers.formula: an expr-lang expression over the triggers' values (by trigger
// name) that yields the one composite metric. KEDA wraps the formula before compiling it: `float(…)`,
// or, when it uses `??`, a form that lets a nil result through so the fallback can take over.
import type { CompiledExpr } from '../../expr/index.ts';
import { ExprError } from '../../expr/index.ts';
import { parseGoFloat, typeName } from '../../expr/values.ts';

/** The formula's result as KEDA's wrapper leaves it: a float, or null (only for a formula using ??). */
export function castFormulaResult(formula: CompiledExpr, result: unknown): number | null {
  const nilAllowed = formula.source.includes('??');
  if (result === null || result === undefined) {
    if (nilAllowed) return null;
    throw new ExprError(`formula ${JSON.stringify(formula.source)} evaluated to nil; float(nil) is an error`);
  }
  if (typeof result === 'number') return result;
  if (typeof result === 'string') {
    const parsed = parseGoFloat(result);
    if (parsed !== undefined) return parsed;
  }
  throw new ExprError(`formula ${JSON.stringify(formula.source)} returned ${typeName(result)} ${JSON.stringify(result)}, not a number`);
}

/** Runs the formula over trigger values (null: a trigger past its fallback threshold). */
export function evaluateFormula(formula: CompiledExpr, values: Readonly<Record<string, number | null>>): number | null {
  return castFormulaResult(formula, formula.evaluate(values));
}
