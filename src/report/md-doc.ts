// Reading a team's Markdown document as lines and tables, without changing a byte of it: where
// each table starts and ends, its header cells, the heading it sits under and whether a
// ClawStorm marker comment names it. Tables inside fenced code blocks are not tables (a README
// quoting the template is not the template).

export interface Line {
  text: string;
  /** `\n`, `\r\n`, or '' for a last line without one. */
  eol: string;
}

export interface DocTable {
  /** Index of the header line. */
  start: number;
  /** Exclusive. */
  end: number;
  indent: string;
  header: string[];
  separator: string[];
  /** The nearest heading above it (no other table in between), as written; undefined when none. */
  heading: string | undefined;
  /** Names of the `<!-- clawstorm:NAME -->` markers on the lines just above it (blank lines allowed). */
  markers: string[];
}

export function splitLines(s: string): Line[] {
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

export function parseSeparator(line: string): string[] | undefined {
  const cells = parseRow(line);
  return cells && cells.length > 0 && cells.every((c) => SEPARATOR_CELL.test(c)) ? cells : undefined;
}

/** Text as compared: Markdown emphasis and code marks dropped, spaces collapsed, lower case. */
export function norm(s: string): string {
  return s
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * A heading as compared: `## Baseline (TBD)¶` → `baseline`. Documentation sites leave a `¶`
 * after each heading when copied; a trailing remark in parentheses or a colon is not the name.
 */
export function headingKey(s: string): string {
  return norm(s)
    .replace(/[¶#\s]+$/, '')
    .replace(/\s*\([^)]*\)$/, '')
    .replace(/[:.]$/, '')
    .trim();
}

const MARKER = /^\s*<!--\s*clawstorm:([a-z-]+)\s*-->\s*$/i;
const ATX = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/;
const SETEXT = /^ {0,3}(?:=+|-+)\s*$/;

/** Which lines are inside fenced code blocks (the fences included). */
function fencedLines(lines: readonly Line[]): boolean[] {
  const inside: boolean[] = [];
  let fence: string | undefined;
  for (const l of lines) {
    const fm = /^ {0,3}(`{3,}|~{3,})/.exec(l.text);
    if (fence !== undefined) {
      inside.push(true);
      if (fm && fm[1]![0] === fence[0] && fm[1]!.length >= fence.length && l.text.trim() === fm[1]) fence = undefined;
      continue;
    }
    if (fm) fence = fm[1]!;
    inside.push(fm !== null);
  }
  return inside;
}

/**
 * The heading a table sits under: the nearest ATX or setext heading above it, or a plain line
 * that `isHeadingLine` accepts (documents copied from a web page lose their `#`s). A table
 * directly above, with no heading in between, means it has none of its own.
 */
function headingAbove(lines: readonly Line[], fenced: readonly boolean[], start: number, isHeadingLine: (text: string) => boolean): string | undefined {
  for (let j = start - 1; j >= 0; j--) {
    if (fenced[j]) continue;
    const text = lines[j]!.text;
    if (text.trim().startsWith('|')) return undefined;
    const atx = ATX.exec(text);
    if (atx) return atx[1]!;
    if (SETEXT.test(text) && j > 0 && lines[j - 1]!.text.trim() !== '' && !fenced[j - 1]) return lines[j - 1]!.text.trim();
    if (text.trim() !== '' && isHeadingLine(text)) return text.trim();
  }
  return undefined;
}

function markersAbove(lines: readonly Line[], start: number): string[] {
  const out: string[] = [];
  for (let j = start - 1; j >= 0; j--) {
    const text = lines[j]!.text;
    if (text.trim() === '') continue;
    const m = MARKER.exec(text);
    if (!m) break;
    out.push(m[1]!.toLowerCase());
  }
  return out;
}

/** Every table of the document outside code blocks, in document order. */
export function scanTables(lines: readonly Line[], isHeadingLine: (text: string) => boolean = () => false): DocTable[] {
  const fenced = fencedLines(lines);
  const found: DocTable[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (fenced[i] || fenced[i + 1]) continue;
    const header = parseRow(lines[i]!.text);
    const separator = header && parseSeparator(lines[i + 1]!.text);
    if (!header || !separator) continue;
    let end = i + 2;
    while (end < lines.length && !fenced[end] && lines[end]!.text.trim() !== '' && parseRow(lines[end]!.text) !== undefined) end++;
    found.push({
      start: i,
      end,
      indent: /^\s*/.exec(lines[i]!.text)![0],
      header,
      separator,
      heading: headingAbove(lines, fenced, i, isHeadingLine),
      markers: markersAbove(lines, i),
    });
    i = end - 1;
  }
  return found;
}

export function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}
