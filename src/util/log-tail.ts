import fs from 'node:fs';
import { redact } from './redact.ts';

/** The last lines of a log file, redacted, for error messages ("" when unreadable). */
export function logTail(file: string, lines = 8, fromByte = 0): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(fromByte, size - 16_384);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return redact(buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

export function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** One line: "<what> failed …; log <file>: <line> | <line> | …" (redacted, lines shortened). */
export function withLogTail(message: string, logFile: string, fromByte = 0, lines = 5): string {
  const tail = logTail(logFile, lines, fromByte)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  if (tail.length === 0) return `${redact(message)} (log ${logFile} is empty)`;
  return `${redact(message)}; log ${logFile}: ${tail.join(' | ')}`;
}
