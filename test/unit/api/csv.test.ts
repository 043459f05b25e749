import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from '../../../harness/gateway/api/csv.ts';

/** A minimal RFC 4180 reader, to prove what we write reads back to the same values. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('CSV export escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line1\nline2', '"line1\nline2"'],
    ['cr\rhere', '"cr\rhere"'],
    ['', ''],
  ])('%j → %j', (input, want) => {
    expect(csvField(input)).toBe(want);
  });

  it('null/undefined are empty; numbers and booleans as text; objects as JSON', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField(false)).toBe('false');
    expect(csvField({ a: 'x,y', b: [1, 2] })).toBe('"{""a"":""x,y"",""b"":[1,2]}"');
    expect(csvField([])).toBe('[]');
  });

  it('rows end in CRLF and round-trip through an RFC 4180 reader', () => {
    const values = ['id-1', 'he said "no, thanks"', 'multi\r\nline', { detail: 'with "quotes", commas\nand newlines' }, null, 7];
    const text = csvRow(values) + csvRow(['second', 'row', '', '', '', '']);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['id-1', 'he said "no, thanks"', 'multi\r\nline', JSON.stringify(values[3]), '', '7']);
    expect(rows[1]).toEqual(['second', 'row', '', '', '', '']);
  });
});
