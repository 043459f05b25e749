// The timeline of a drill or storm: events in seconds since its start (one decimal), redacted,
// each also printed as `<prefix>: [12.3 s] label`.
import { redact } from './redact.ts';

export interface TimelineEvent {
  t: number;
  label: string;
  kind?: string;
}

export function timeline(prefix: string, t0: number, log: (line: string) => void): { events: TimelineEvent[]; ev: (label: string, kind?: string) => void } {
  const events: TimelineEvent[] = [];
  const ev = (label: string, kind?: string): void => {
    const e = { t: Math.round((Date.now() - t0) / 100) / 10, label: redact(label), ...(kind ? { kind } : {}) };
    events.push(e);
    log(`${prefix}: [${e.t.toFixed(1)} s] ${e.label}`);
  };
  return { events, ev };
}
