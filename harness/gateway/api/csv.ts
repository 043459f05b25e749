// RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled, lines end CRLF.
// Structured values (jsonb columns) are written as their JSON text; null is an empty field.

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
