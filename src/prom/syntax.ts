// PromQL text: syntax checking with the Prometheus project's own Lezer grammar, and the Grafana-
// style placeholders (`$__range`, `$__interval`, `$__rate_interval`) a query may carry.
import { parser } from '@prometheus-io/lezer-promql';

export interface PromQLProblem {
  /** 0-based character offset of the first syntax error. */
  offset: number;
  message: string;
}

export const PLACEHOLDER = /\$\{?__(rate_interval|range|interval)\}?(?![A-Za-z0-9_])/g;

/**
 * Syntax check with the Prometheus project's own Lezer grammar (placeholders are replaced by a
 * duration first). Returns undefined when the query parses; this is syntax only — type errors
 * such as `rate(foo)` surface from Prometheus at run time.
 */
export function checkPromQL(query: string): PromQLProblem | undefined {
  const text = query.replace(PLACEHOLDER, '1m');
  if (text.trim() === '') return { offset: 0, message: 'empty query' };
  const tree = parser.parse(text);
  let offset = -1;
  tree.iterate({
    enter(node) {
      if (offset >= 0) return false;
      if (node.type.isError) offset = node.from;
      return undefined;
    },
  });
  if (offset < 0) return undefined;
  const near = text.slice(offset, offset + 20);
  return { offset, message: `invalid PromQL at column ${offset + 1}${near ? ` near ${JSON.stringify(near)}` : ' (unexpected end)'}` };
}

export interface Placeholders {
  range: number;
  interval: number;
  rateInterval: number;
}

export function substitutePlaceholders(query: string, p: Placeholders): string {
  return query.replace(PLACEHOLDER, (_m, name: string) => {
    const seconds = name === 'range' ? p.range : name === 'interval' ? p.interval : p.rateInterval;
    return `${Math.max(1, Math.ceil(seconds))}s`;
  });
}
