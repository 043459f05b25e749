// `if:` of a drill step or criterion, after the options were rendered into it: truthy (not empty,
// not 0, not false), or one comparison of two rendered values, `a == b` / `a != b` (as text), so
// a drill can say "only when {{mode}} != hang" without an expression language.
import type { OptionValue } from './schema.ts';

export function holds(v: OptionValue | undefined): boolean {
  if (v === undefined) return true;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'boolean') return v;
  const cmp = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(v.trim());
  if (cmp !== null) return (cmp[1]!.trim() === cmp[3]!.trim()) === (cmp[2] === '==');
  return v.trim() !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
