// Where a run's events went, as the `events` section of results.json records it (the same
// shape; src/report/results.ts validates it). The receiver's origin only: its path may carry an app key.
import type { RunEventsSummary } from './run-events.ts';
import path from 'node:path';

export interface EventsRecord {
  file: string;
  written: number;
  fileError: string | null;
  receiver: { origin: string; sent: number; dropped: number; failedPosts: number; lastError: string | null } | null;
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}

export function eventsRecord(s: RunEventsSummary, outDir: string): EventsRecord {
  return {
    file: path.relative(outDir, s.file),
    written: s.written,
    fileError: s.fileError,
    receiver: s.receiver ? { origin: originOf(s.receiver.url), sent: s.receiver.sent, dropped: s.receiver.dropped, failedPosts: s.receiver.failedPosts, lastError: s.receiver.lastError } : null,
  };
}
