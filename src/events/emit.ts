// What a run says through its events, from the figures it already has: a scenario's per-window
// measurements from its per-second series, a drill's phases and faults from its timeline.
import type { RunEvents } from './run-events.ts';

interface Second {
  t: number;
  count: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * One measurement per `widthS` seconds of a scenario, at the window's end: requests and errors
 * in it, throughput, and the worst second's percentiles (percentiles of seconds cannot be
 * merged; the worst one is what a dashboard should not hide).
 */
export function emitScenarioWindows(ev: RunEvents, scenario: string, series: readonly Second[], widthS = 5): number {
  if (series.length === 0) return 0;
  const t0 = series[0]!.t;
  const windows = new Map<number, Second[]>();
  for (const s of series) {
    const k = Math.floor((s.t - t0) / widthS);
    const w = windows.get(k) ?? [];
    w.push(s);
    windows.set(k, w);
  }
  const worst = (w: Second[], k: 'p50' | 'p95' | 'p99') => w.reduce<number | null>((m, s) => (s[k] === null ? m : m === null ? s[k] : Math.max(m, s[k])), null);
  for (const [k, w] of [...windows].sort((a, b) => a[0] - b[0])) {
    const requests = w.reduce((n, s) => n + s.count, 0);
    const errors = w.reduce((n, s) => n + s.errors, 0);
    const end = t0 + (k + 1) * widthS;
    ev.measurement(
      'clawstorm_window',
      { requests, errors, error_rate: requests > 0 ? errors / requests : null, throughput: requests / widthS, p50_ms: worst(w, 'p50'), p95_ms: worst(w, 'p95'), p99_ms: worst(w, 'p99') },
      { scenario, window_s: String(widthS) },
      new Date(Math.min(end, w[w.length - 1]!.t + 1) * 1000),
    );
  }
  return windows.size;
}

interface DrillLike {
  name: string;
  status: string;
  startedAt?: string | undefined;
  events?: readonly { t: number; label: string; kind?: string | undefined }[] | undefined;
}

/** A fault went in (`fault`), came out (`recover`, a rollback), or the drill moved on. */
export function drillEventName(e: { label: string; kind?: string | undefined }): 'fault_injected' | 'fault_rolled_back' | 'drill_phase' {
  if (e.kind === 'fault') return 'fault_injected';
  if (e.kind === 'recover' || e.kind === 'rollback' || /^roll(ed )?backs?\b/i.test(e.label)) return 'fault_rolled_back';
  return 'drill_phase';
}

/** A finished drill's timeline as events, each at its own time. */
export function emitDrill(ev: RunEvents, d: DrillLike, endedAt = new Date()): void {
  const start = d.startedAt ? new Date(d.startedAt) : undefined;
  ev.event('drill_start', { drill: d.name }, start);
  for (const e of d.events ?? []) {
    ev.event(drillEventName(e), { drill: d.name, label: e.label, kind: e.kind ?? null, t_s: e.t }, start ? new Date(start.getTime() + e.t * 1000) : undefined);
  }
  ev.event('drill_end', { drill: d.name, status: d.status }, endedAt);
}
