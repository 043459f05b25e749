// Fill the results template and the Metrics-to-monitor tables in place, in the team's own
// Markdown file.
//
// A table is found by its header row and only its lines are replaced; every other byte stays
// as it was (line endings, trailing newline, text around it). Filling is idempotent: the
// filled table keeps a header the next fill finds again, so running twice gives one table and
// byte-identical output. Tables inside fenced code blocks are left alone (a README quoting the
// template is not the template).
//
// Recognised headers (case and spacing ignored):
//   results:  | Scenario | P50 | P95 | P99 | Error Rate | Status |
//   metrics:  | Group | Metric | Target | Alert Threshold | …   → regenerated from the run
//             | Metric | Target | Alert Threshold | …           → per-group tables (the plan's own
//               layout): the team's first three columns stay, Observed and Status are set per
//               row by matching the Metric cell with the profile's row label.
// A requested table that is not there is an error, unless `appendMissing` is set: then it is
// appended under a heading of its own.
import fs from 'node:fs';
import { NONE } from './format.ts';
import { metricObserved, metricStatus, renderMetricsTable, renderResultsTable, tableRow } from './markdown.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { Results } from './results.ts';
import { redact } from '../util/redact.ts';

export type FillTable = 'results' | 'metrics';

export interface FillOptions {
  /** Default both. */
  tables?: FillTable[];
  /** Append a missing table under its own heading instead of failing. Default false. */
  appendMissing?: boolean;
  /** For messages. */
  file?: string;
}

export interface FillOutcome {
  text: string;
  /** How many tables of each kind were filled. */
  filled: Record<FillTable, number>;
  appended: FillTable[];
}

export class TemplateFillError extends Error {
  readonly exitCode = 2;
}

interface Line {
  text: string;
  eol: string;
}

function splitLines(s: string): Line[] {
  const out: Line[] = [];
  let i = 0;
  while (i < s.length) {
    const nl = s.indexOf('\n', i);
    if (nl < 0) {
      out.push({ text: s.slice(i), eol: '' });
      break;
    }
    const crlf = nl > i && s[nl - 1] === '\r';
    out.push({ text: s.slice(i, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    i = nl + 1;
  }
  return out;
}

/** Cells of a table row, raw (escapes kept), trimmed; undefined when the line is no table row. */
export function parseRow(line: string): string[] | undefined {
  const t = line.trim();
  if (!t.includes('|')) return undefined;
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === '\\' && i + 1 < t.length) {
      cur += ch + t[i + 1];
      i += 1;
    } else if (ch === '|') {
      cells.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  cells.push(cur);
  if (t.startsWith('|')) cells.shift();
  if (t.endsWith('|') && !t.endsWith('\\|')) cells.pop();
  return cells.map((c) => c.trim());
}

const SEPARATOR_CELL = /^:?-+:?$/;

function isSeparator(line: string): string[] | undefined {
  const cells = parseRow(line);
  return cells && cells.length > 0 && cells.every((c) => SEPARATOR_CELL.test(c)) ? cells : undefined;
}

function norm(s: string): string {
  return s
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

const RESULTS_KEY = ['scenario', 'p50', 'p95', 'p99', 'error rate', 'status'];
const COMBINED_KEY = ['group', 'metric', 'target', 'alert threshold'];
const GROUP_KEY = ['metric', 'target', 'alert threshold'];

type Kind = 'results' | 'metrics-combined' | 'metrics-group';

function classify(header: string[]): Kind | undefined {
  const h = header.map(norm);
  const startsWith = (key: string[]) => key.every((k, i) => h[i] === k);
  if (h.length === RESULTS_KEY.length && startsWith(RESULTS_KEY)) return 'results';
  if (startsWith(COMBINED_KEY)) return 'metrics-combined';
  if (startsWith(GROUP_KEY)) return 'metrics-group';
  return undefined;
}

interface Found {
  kind: Kind;
  start: number;
  /** Exclusive. */
  end: number;
  indent: string;
}

function findTables(lines: Line[]): Found[] {
  const found: Found[] = [];
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.text;
    const fm = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (fence !== undefined) {
      if (fm && fm[1]![0] === fence[0] && fm[1]!.length >= fence.length && text.trim() === fm[1]) fence = undefined;
      continue;
    }
    if (fm) {
      fence = fm[1]!;
      continue;
    }
    const header = parseRow(text);
    if (!header || i + 1 >= lines.length || !isSeparator(lines[i + 1]!.text)) continue;
    const kind = classify(header);
    if (kind === undefined) continue;
    let end = i + 2;
    while (end < lines.length && lines[end]!.text.trim() !== '' && parseRow(lines[end]!.text) !== undefined) end++;
    found.push({ kind, start: i, end, indent: /^\s*/.exec(text)![0] });
    i = end - 1;
  }
  return found;
}

function groupTable(lines: Line[], t: Found, results: Pick<Results, 'metrics'>): string[] {
  const header = parseRow(lines[t.start]!.text)!;
  const sep = isSeparator(lines[t.start + 1]!.text)!;
  const byName = new Map(results.metrics.map((m) => [norm(m.metric), m]));
  const out = [tableRow([...header.slice(0, 3), 'Observed', 'Status']), `| ${[...sep.slice(0, 3), '---', '---'].join(' | ')} |`];
  for (let i = t.start + 2; i < t.end; i++) {
    const cells = parseRow(lines[i]!.text)!;
    const own = [0, 1, 2].map((k) => cells[k] ?? '');
    const m = byName.get(norm(own[0]!));
    // The team's own cells are kept as written (already escaped Markdown), ours are escaped.
    const ours = m === undefined ? [NONE, 'Not run'] : [metricObserved(m), metricStatus(m)];
    out.push(`| ${own.join(' | ')} | ${ours.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return out;
}

/** Fill the tables in `text`. Throws TemplateFillError when a requested table is missing. */
export function fillTemplate(text: string, results: Pick<Results, 'scenarios' | 'metrics'>, opts: FillOptions = {}): FillOutcome {
  const want = new Set<FillTable>(opts.tables ?? ['results', 'metrics']);
  const lines = splitLines(text);
  const tables = findTables(lines).filter((t) => want.has(t.kind === 'results' ? 'results' : 'metrics'));
  const filled: Record<FillTable, number> = { results: 0, metrics: 0 };

  // Replace back to front so earlier indices stay valid.
  for (const t of [...tables].reverse()) {
    let generated: string[];
    if (t.kind === 'results') generated = renderResultsTable(results);
    else if (t.kind === 'metrics-combined') generated = renderMetricsTable(results);
    else generated = groupTable(lines, t, results);
    const eol = lines[t.start]!.eol;
    const lastEol = lines[t.end - 1]!.eol;
    const replacement = generated.map((g, k) => ({ text: t.indent + redact(g), eol: k === generated.length - 1 ? lastEol : eol }));
    lines.splice(t.start, t.end - t.start, ...replacement);
    filled[t.kind === 'results' ? 'results' : 'metrics'] += 1;
  }

  const missing = [...want].filter((k) => filled[k] === 0);
  const appended: FillTable[] = [];
  let out = lines.map((l) => l.text + l.eol).join('');
  if (missing.length > 0) {
    const where = opts.file ?? 'the template';
    if (!opts.appendMissing) {
      const looked = missing.map((k) =>
        k === 'results'
          ? 'the results table (header "| Scenario | P50 | P95 | P99 | Error Rate | Status |")'
          : 'a metrics table (header "| Group | Metric | Target | Alert Threshold |" or "| Metric | Target | Alert Threshold |")',
      );
      throw new TemplateFillError(`${where}: no ${looked.join(' and no ')} found outside code blocks; nothing was changed (use the append option to add it)`);
    }
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    if (out.length > 0 && !out.endsWith('\n')) out += eol;
    for (const k of missing) {
      const heading = k === 'results' ? '## Load test results (ClawStorm)' : '## Metrics to monitor (ClawStorm)';
      const table = k === 'results' ? renderResultsTable(results) : renderMetricsTable(results);
      out += (out.length > 0 ? eol : '') + [heading, '', ...table.map(redact)].join(eol) + eol;
      filled[k] += 1;
      appended.push(k);
    }
  }
  return { text: out, filled, appended };
}

/** Fill a file in place (atomically; mode kept). The file is rewritten only when it changes. */
export function fillFile(file: string, results: Pick<Results, 'scenarios' | 'metrics'>, opts: Omit<FillOptions, 'file'> = {}): FillOutcome & { changed: boolean } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TemplateFillError(`${file}: cannot read the template (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const outcome = fillTemplate(text, results, { ...opts, file });
  const changed = outcome.text !== text;
  if (changed) writeFileAtomic(file, outcome.text);
  return { ...outcome, changed };
}
