// Fill the results table and the metrics tables in place, in the team's own Markdown file.
//
// The document stays the team's. Only cells ClawStorm owns are written:
//   results table (a header with Scenario, P50, P95, P99, Error Rate and Status, in any order,
//   other columns allowed): in the rows of the plan's scenarios and of the scenarios this run
//   had, the P50/P95/P99/Error Rate/Status cells. Every other row (a team's own "Token Rotation
//   Drill" row) and every other column stay as written, where they are. A scenario that ran and
//   has no row gets one, after the last row ClawStorm filled.
//   metrics tables (a header with Metric and Target: the plan's per-group tables, with or
//   without an Alert Threshold column; or with Group too, the combined table): the Observed and
//   Status cells of the rows whose Metric names a row of the run's profile (compared without
//   case, punctuation or word order: "CPU utilization (gateway)" is "Gateway CPU utilization").
//   A table without those columns gets them added at its right; other columns (Owner, Notes)
//   stay. A row the profile does not have keeps its cells; where the columns were just added it
//   reads `--` / `Not run`. A combined table also gets a row for each metric it lacks.
//
// Which results table: with one candidate outside code blocks, that one. With several, the one
// marked by `<!-- clawstorm:results -->` on a line of its own above it; else the one under the
// plan's own heading ("Load Test Results Template", "Results", "Baseline"); else nothing is
// changed and the error names every candidate (exit 2). Every metrics table is filled.
//
// Every byte outside the cells written stays as it was (line endings, the final newline, text
// around the tables, rows that did not change). Filling is idempotent: twice gives the same
// bytes as once.
import fs from 'node:fs';
import { formatAlert, formatCondition, NONE } from './format.ts';
import { metricObserved, metricStatus, scenarioCells } from './cells.ts';
import { cell, renderMetricsTable, renderResultsTable } from './markdown.ts';
import { headingKey, joinLines, norm, parseRow, scanTables, splitLines, type DocTable, type Line } from './md-doc.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { TEMPLATE_SCENARIOS, type MetricRowRecord, type Results, type ScenarioResult } from './results.ts';
import { redact } from '../util/redact.ts';

export type FillTable = 'results' | 'metrics';

export interface FillOptions {
  /** Which kinds to fill; default both. */
  tables?: FillTable[];
  /** Which kinds must be found (an error otherwise); default every kind in `tables`. */
  require?: FillTable[];
  /** Add a missing required table at the end of the file (under a heading and the marker) instead of failing. */
  append?: boolean;
  /** For messages. */
  file?: string;
}

export interface FillOutcome {
  text: string;
  /** How many tables of each kind were filled. */
  filled: Record<FillTable, number>;
  appended: FillTable[];
  /** 1-based line of the results table that was filled. */
  resultsLine?: number;
}

export class TemplateFillError extends Error {
  readonly exitCode = 2;
}

export const RESULTS_MARKER = '<!-- clawstorm:results -->';
/** Headings the plan puts its results table under (compared by `headingKey`). */
const PLAN_HEADINGS = new Set(['load test results template', 'load test results', 'results', 'baseline']);

type FillData = Pick<Results, 'scenarios' | 'metrics'>;
type Kind = 'results' | 'metrics-combined' | 'metrics-group';

function classify(header: readonly string[]): Kind | undefined {
  const h = new Set(header.map(norm));
  const has = (...keys: string[]) => keys.every((k) => h.has(k));
  if (has('scenario', 'p50', 'p95', 'p99', 'error rate', 'status')) return 'results';
  if (has('group', 'metric', 'target')) return 'metrics-combined';
  if (has('metric', 'target')) return 'metrics-group';
  return undefined;
}

/**
 * A name as compared across documents: words in any order, without case, punctuation or a unit
 * in parentheses ("Request throughput (req/s)" is the plan's "request throughput").
 */
export function nameKey(s: string): string {
  return norm(s)
    .replace(/\((?:[a-z]+\/[a-z]+|ms|s|%|bytes)\)/g, ' ')
    .replace(/isation/g, 'ization')
    .split(/[^a-z0-9%]+/)
    .filter((w) => w !== '')
    .sort()
    .join(' ');
}

function sameName(a: string, b: string): boolean {
  return norm(a) === norm(b) || nameKey(a) === nameKey(b);
}

// ── one table, column by column ───────────────────────────────────────────────

interface Column {
  key: string;
  title: string;
}

/** Where each column of a table is, with ClawStorm's missing columns added at the right. */
class Layout {
  readonly index = new Map<string, number>();
  readonly added: string[] = [];
  readonly width: number;
  readonly t: DocTable;
  constructor(t: DocTable, owned: readonly Column[]) {
    this.t = t;
    t.header.forEach((h, i) => {
      if (!this.index.has(norm(h))) this.index.set(norm(h), i);
    });
    for (const c of owned) {
      if (this.index.has(c.key)) continue;
      this.index.set(c.key, t.header.length + this.added.length);
      this.added.push(c.title);
    }
    this.width = t.header.length + this.added.length;
  }
  cellOf(cells: readonly string[], key: string): string | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : cells[i];
  }
  /** `cells` with `values` written into their columns (ours escaped and redacted). */
  set(cells: readonly string[], values: Record<string, string>): string[] {
    const out = [...cells];
    while (out.length < this.width) out.push('');
    for (const [k, v] of Object.entries(values)) {
      const i = this.index.get(k);
      if (i !== undefined) out[i] = cell(redact(v));
    }
    return out;
  }
  line(cells: readonly string[]): string {
    return `${this.t.indent}| ${cells.join(' | ')} |`;
  }
}

/** The lines of a filled table; rows whose cells did not change keep their exact text. */
function rebuild(lines: readonly Line[], L: Layout, rows: Array<{ from?: number; cells: string[] }>): string[] {
  const t = L.t;
  const out: string[] = [];
  if (L.added.length === 0) out.push(lines[t.start]!.text, lines[t.start + 1]!.text);
  else out.push(L.line([...t.header, ...L.added]), L.line([...t.separator, ...L.added.map(() => '---')]));
  for (const r of rows) {
    const before = r.from === undefined ? undefined : parseRow(lines[r.from]!.text);
    const same = before !== undefined && before.length === r.cells.length && before.every((c, i) => c === r.cells[i]);
    out.push(same ? lines[r.from!]!.text : L.line(r.cells));
  }
  return out;
}

const RESULT_COLUMNS: Column[] = [
  { key: 'p50', title: 'P50' },
  { key: 'p95', title: 'P95' },
  { key: 'p99', title: 'P99' },
  { key: 'error rate', title: 'Error Rate' },
  { key: 'status', title: 'Status' },
];

function resultsTable(lines: readonly Line[], t: DocTable, data: FillData): string[] {
  const L = new Layout(t, RESULT_COLUMNS);
  const items: Array<{ title: string; name: string; s: ScenarioResult | undefined }> = TEMPLATE_SCENARIOS.map((row) => ({
    ...row,
    s: data.scenarios.find((s) => s.name === row.name || sameName(s.title, row.title)),
  }));
  for (const s of data.scenarios) if (!items.some((i) => i.s === s)) items.push({ title: s.title, name: s.name, s });
  const values = (i: (typeof items)[number]): Record<string, string> => {
    const [, p50, p95, p99, err, status] = scenarioCells(i.title, i.s);
    return { p50: p50!, p95: p95!, p99: p99!, 'error rate': err!, status: status! };
  };
  const rows: Array<{ from?: number; cells: string[] }> = [];
  const seen = new Set<(typeof items)[number]>();
  let lastOwned = -1;
  for (let k = t.start + 2; k < t.end; k++) {
    const cells = parseRow(lines[k]!.text)!;
    const name = L.cellOf(cells, 'scenario') ?? '';
    const item = items.find((i) => sameName(name, i.title) || sameName(name, i.name));
    // Not a row of the run: kept exactly as written.
    if (item === undefined) rows.push({ from: k, cells });
    else {
      seen.add(item);
      rows.push({ from: k, cells: L.set(cells, values(item)) });
      lastOwned = rows.length - 1;
    }
  }
  // A scenario that ran and has no row gets one after the last row ClawStorm filled.
  const missing = items.filter((i) => !seen.has(i) && i.s !== undefined && i.s.status !== 'Not run');
  const fresh = missing.map((i) => ({ cells: L.set([], { scenario: i.title, ...values(i) }) }));
  rows.splice(lastOwned < 0 ? rows.length : lastOwned + 1, 0, ...fresh);
  return rebuild(lines, L, rows);
}

const METRIC_COLUMNS: Column[] = [
  { key: 'observed', title: 'Observed' },
  { key: 'status', title: 'Status' },
];

function metricsTable(lines: readonly Line[], t: DocTable, data: FillData, combined: boolean): string[] {
  const L = new Layout(t, METRIC_COLUMNS);
  const seen = new Set<MetricRowRecord>();
  const rows: Array<{ from?: number; cells: string[] }> = [];
  for (let k = t.start + 2; k < t.end; k++) {
    const cells = parseRow(lines[k]!.text)!;
    const name = L.cellOf(cells, 'metric') ?? '';
    const m = data.metrics.find((x) => norm(x.metric) === norm(name)) ?? data.metrics.find((x) => sameName(x.metric, name));
    if (m !== undefined) {
      seen.add(m);
      rows.push({ from: k, cells: L.set(cells, { observed: metricObserved(m), status: metricStatus(m) }) });
    } else {
      // Not a row of the run: its cells stay; columns added just now need something in them.
      if (L.added.length === 0) {
        rows.push({ from: k, cells });
        continue;
      }
      const blank = Object.fromEntries(METRIC_COLUMNS.filter((c) => L.added.includes(c.title)).map((c) => [c.key, c.key === 'status' ? 'Not run' : NONE]));
      rows.push({ from: k, cells: L.set(cells, blank) });
    }
  }
  if (combined) {
    for (const m of data.metrics.filter((x) => !seen.has(x))) {
      rows.push({
        cells: L.set([], {
          group: m.group,
          metric: m.metric,
          target: formatCondition(m.target.op, m.target.value, m.unit),
          'alert threshold': formatAlert(m.alert, m.unit),
          observed: metricObserved(m),
          status: metricStatus(m),
        }),
      });
    }
  }
  return rebuild(lines, L, rows);
}

// ── which tables ──────────────────────────────────────────────────────────────

function describeTable(t: DocTable): string {
  return `line ${t.start + 1}${t.heading !== undefined ? ` (under "${t.heading.replace(/[¶\s]+$/, '')}")` : ''}`;
}

/** The results table to fill, by the rules in the header; throws when the document is ambiguous. */
function chooseResultsTable(candidates: DocTable[], where: string): DocTable | undefined {
  if (candidates.length <= 1) return candidates[0];
  const marked = candidates.filter((t) => t.markers.includes('results'));
  if (marked.length === 1) return marked[0];
  const ambiguous = (pool: DocTable[], why: string) =>
    new TemplateFillError(
      `${where}: ${why}: ${pool.map(describeTable).join('; ')}. Put ${RESULTS_MARKER} on the line above the one to fill (only that one); nothing was changed`,
    );
  if (marked.length > 1) throw ambiguous(marked, `${marked.length} results tables carry the marker`);
  const under = candidates.filter((t) => t.heading !== undefined && PLAN_HEADINGS.has(headingKey(t.heading)));
  if (under.length === 1) return under[0];
  throw ambiguous(candidates, `${candidates.length} results tables and none is marked${under.length > 1 ? ` (${under.length} under the plan's heading)` : ''}`);
}

function missingMessage(where: string, kinds: FillTable[]): string {
  const what = kinds.map((k) =>
    k === 'results'
      ? 'no results table (a header with the columns Scenario, P50, P95, P99, Error Rate and Status)'
      : 'no metrics table (a header with the columns Metric and Target)',
  );
  return `${where}: ${what.join(' and ')} outside code blocks; nothing was changed. Paste the plan's table where it belongs, or add it at the end with --append`;
}

/** Fill the tables in `text`. Throws TemplateFillError when a required table is missing or the results table is ambiguous. */
export function fillTemplate(text: string, data: FillData, opts: FillOptions = {}): FillOutcome {
  const want = new Set<FillTable>(opts.tables ?? ['results', 'metrics']);
  const required = (opts.require ?? [...want]).filter((k) => want.has(k));
  const where = opts.file ?? 'the template';
  const lines = splitLines(text);
  const all = scanTables(lines, (l) => PLAN_HEADINGS.has(headingKey(l)));
  const kinds = new Map(all.map((t) => [t, classify(t.header)] as const));
  const chosen: Array<{ t: DocTable; kind: Kind }> = [];
  if (want.has('results')) {
    const r = chooseResultsTable(all.filter((t) => kinds.get(t) === 'results'), where);
    if (r !== undefined) chosen.push({ t: r, kind: 'results' });
  }
  if (want.has('metrics')) for (const t of all) if (kinds.get(t) === 'metrics-group' || kinds.get(t) === 'metrics-combined') chosen.push({ t, kind: kinds.get(t)! });
  const filled: Record<FillTable, number> = { results: 0, metrics: 0 };
  for (const c of chosen) filled[c.kind === 'results' ? 'results' : 'metrics'] += 1;
  const missing = required.filter((k) => filled[k] === 0);
  if (missing.length > 0 && !opts.append) throw new TemplateFillError(missingMessage(where, missing));
  const resultsAt = chosen.find((c) => c.kind === 'results')?.t.start;

  // Replace back to front so earlier indices stay valid.
  for (const { t, kind } of [...chosen].sort((a, b) => b.t.start - a.t.start)) {
    const generated = kind === 'results' ? resultsTable(lines, t, data) : metricsTable(lines, t, data, kind === 'metrics-combined');
    const eol = lines[t.start]!.eol;
    const lastEol = lines[t.end - 1]!.eol;
    lines.splice(t.start, t.end - t.start, ...generated.map((g, k) => ({ text: g, eol: k === generated.length - 1 ? lastEol : eol })));
  }

  let out = joinLines(lines);
  const appended: FillTable[] = [];
  if (missing.length > 0) {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    if (out.length > 0 && !out.endsWith('\n')) out += eol;
    for (const k of missing) {
      const block = k === 'results' ? ['## Load test results (ClawStorm)', '', RESULTS_MARKER, ...renderResultsTable(data)] : ['## Metrics to monitor (ClawStorm)', '', ...renderMetricsTable(data)];
      out += (out.length > 0 ? eol : '') + block.map(redact).join(eol) + eol;
      filled[k] += 1;
      appended.push(k);
    }
  }
  return { text: out, filled, appended, ...(resultsAt !== undefined ? { resultsLine: resultsAt + 1 } : {}) };
}

/** Fill a file in place (atomically, through a symlink to the real file, its mode kept). Rewritten only when it changes. */
export function fillFile(file: string, data: FillData, opts: Omit<FillOptions, 'file'> = {}): FillOutcome & { changed: boolean } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TemplateFillError(`${file}: cannot read the template (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const outcome = fillTemplate(text, data, { ...opts, file });
  const changed = outcome.text !== text;
  if (changed) writeFileAtomic(file, outcome.text);
  return { ...outcome, changed };
}
