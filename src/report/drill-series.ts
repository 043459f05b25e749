// What a game day wants to see of a drill or a storm, computed once for results.md and
// report.html: the fault windows of the timeline, the client's series on the drill's own clock
// (seconds since it started, the clock of its events), and summaries per window.
import type { Results, StormSecond } from './results.ts';

export type DrillRecord = Results['drills'][number];
type Bucket = DrillRecord['series'][number];

export interface Window {
  /** Seconds since the drill started. */
  from: number;
  to: number;
  label: string;
}

/** Seconds since the drill started of a unix second `t` (series buckets are in unix time). */
export function drillClock(d: Pick<DrillRecord, 'startedAt' | 'series'>): (unixSeconds: number) => number {
  const start = d.startedAt !== undefined ? Date.parse(d.startedAt) / 1000 : Number.NaN;
  const t0 = Number.isFinite(start) ? start : (d.series[0]?.t ?? 0);
  return (t) => Math.round((t - t0) * 10) / 10;
}

/**
 * Fault windows: each `fault` event to the next `recover` event after it; a fault never
 * recovered lasts until `end`. Overlapping windows are one window (their labels joined), so a
 * chart shades a moment once and a table lists it once. `only` keeps the events of one storm
 * discipline (`capped: …`).
 */
export function faultWindows(events: DrillRecord['events'], end: number, only?: (label: string) => boolean): Window[] {
  const sorted = [...events].filter((e) => only === undefined || only(e.label)).sort((a, b) => a.t - b.t);
  const out: Window[] = [];
  const open: Array<{ t: number; label: string }> = [];
  for (const e of sorted) {
    if (e.kind === 'fault') open.push(e);
    else if (e.kind === 'recover' && open.length > 0) {
      const f = open.shift()!;
      out.push({ from: f.t, to: Math.max(f.t, e.t), label: f.label });
    }
  }
  for (const f of open) out.push({ from: f.t, to: Math.max(f.t, end), label: f.label });
  const merged: Window[] = [];
  for (const w of out.sort((a, b) => a.from - b.from)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && w.from <= last.to) merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, w.to), label: `${last.label}; ${w.label}` };
    else merged.push(w);
  }
  return merged;
}

/** The events that mark detection and recovery on a chart (measurements and recoveries). */
export function marks(events: DrillRecord['events'], only?: (label: string) => boolean): DrillRecord['events'] {
  return events.filter((e) => (e.kind === 'measure' || e.kind === 'recover') && (only === undefined || only(e.label)));
}

export interface WindowStats {
  label: string;
  from: number;
  to: number;
  requests: number;
  errors: number;
  /** errors / requests; null when no request completed. */
  errorRate: number | null;
  /** The worst one-second percentile in the window (buckets cannot be merged into an exact one). */
  worstP50: number | null;
  worstP95: number | null;
  worstP99: number | null;
}

function worst(bs: Bucket[], k: 'p50' | 'p95' | 'p99'): number | null {
  const vs = bs.map((b) => b[k]).filter((v): v is number => v !== null);
  return vs.length === 0 ? null : Math.max(...vs);
}

/**
 * The client's series cut at the fault windows: before the first fault, each fault window,
 * between them, after the last — or the whole drill when it had no fault.
 */
export function windowStats(d: Pick<DrillRecord, 'startedAt' | 'series' | 'events'>): WindowStats[] {
  if (d.series.length === 0) return [];
  const clock = drillClock(d);
  const end = clock(d.series[d.series.length - 1]!.t) + 1;
  const faults = faultWindows(d.events, end);
  const cuts: Window[] = [];
  let at = 0;
  faults.forEach((f, i) => {
    if (f.from > at) cuts.push({ from: at, to: f.from, label: i === 0 ? 'before the fault' : 'between faults' });
    cuts.push({ from: f.from, to: f.to, label: `fault: ${f.label}` });
    at = Math.max(at, f.to);
  });
  if (end > at) cuts.push({ from: at, to: end, label: faults.length === 0 ? 'whole drill' : 'after recovery' });
  return cuts.map((w) => {
    const bs = d.series.filter((b) => clock(b.t) >= w.from && clock(b.t) < w.to);
    const requests = bs.reduce((a, b) => a + b.count, 0);
    const errors = bs.reduce((a, b) => a + b.errors, 0);
    return { ...w, requests, errors, errorRate: requests > 0 ? errors / requests : null, worstP50: worst(bs, 'p50'), worstP95: worst(bs, 'p95'), worstP99: worst(bs, 'p99') };
  });
}

/** A storm discipline's seconds summed into bins of `width` seconds (for a table that fits a page). */
export function binSeconds(seconds: readonly StormSecond[], width: number): StormSecond[] {
  const out = new Map<number, StormSecond>();
  for (const s of seconds) {
    const t = Math.floor(s.t / width) * width;
    const b = out.get(t) ?? { t, requests: 0, accepted: 0, status429: 0, lost: 0 };
    b.requests += s.requests;
    b.accepted += s.accepted;
    b.status429 += s.status429;
    // One second not known makes its bin not known.
    b.lost = b.lost === null || s.lost === null ? null : b.lost + s.lost;
    out.set(t, b);
  }
  return [...out.values()].sort((a, b) => a.t - b.t);
}

/** The smallest of 1, 2, 5, 10, 15, 30, 60 s that keeps a span within `maxRows` rows. */
export function binWidth(spanSeconds: number, maxRows = 20): number {
  return [1, 2, 5, 10, 15, 30, 60].find((w) => Math.ceil((spanSeconds + 1) / w) <= maxRows) ?? 60;
}

/** Does a storm event belong to this discipline (`capped: restart gw-1`)? */
export function ofDiscipline(discipline: string): (label: string) => boolean {
  return (label) => label.startsWith(`${discipline}:`);
}

/** No scenario ran, and there are drills: a drill or storm run, not a load test. */
export function drillOnly(r: Pick<Results, 'scenarios' | 'drills'>): boolean {
  return r.drills.length > 0 && !r.scenarios.some((s) => s.status !== 'Not run');
}
