// Driving tracks in time: measure each track when it is due (its initial delay, interval and
// error retry), concurrently across tracks, until every track is complete or the caller stops
// the loop. The loop never decides a phase itself — Track does — and never ends a track: a track
// still running when the loop stops is the caller's to terminate (a method that ended, a
// deadline) or to report as aborted.
import { sleep as sleepFor } from '../util/sleep.ts';
import type { Measurement, Track } from './track.ts';

export type Measure = () => Promise<Omit<Measurement, 'at'>>;

export interface TrackedMeasure {
  track: Track;
  measure: Measure;
}

export interface RunTracksOptions {
  /** Stops the loop (after measurements in flight finish). */
  signal?: AbortSignal | undefined;
  /** Default Date.now; tests pass a fake clock with a matching sleep. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
  /** Called after each measurement is recorded (progress lines, timelines). */
  onMeasurement?: (track: Track, m: Measurement) => void;
  /** Safety bound on measuring rounds; a loop must end even if a clock misbehaves. */
  maxRounds?: number;
}

/** A measure that throws is an Error measurement carrying the message, never a crash. */
async function measureSafely(measure: Measure): Promise<Omit<Measurement, 'at'>> {
  try {
    return await measure();
  } catch (err) {
    return { phase: 'Error', value: null, detail: (err as Error).message };
  }
}

export async function runTracks(items: readonly TrackedMeasure[], opts: RunTracksOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? sleepFor;
  const maxRounds = opts.maxRounds ?? 1_000_000;
  for (let round = 0; round < maxRounds; round++) {
    if (opts.signal?.aborted) return;
    const pending = items.filter((i) => !i.track.done);
    if (pending.length === 0) return;
    const nextAt = Math.min(...pending.map((i) => i.track.nextDueAt() ?? Number.POSITIVE_INFINITY));
    const wait = nextAt - now();
    if (wait > 0 && !(await sleep(wait, opts.signal))) return;
    const t = now();
    const due = pending.filter((i) => (i.track.nextDueAt() ?? Number.POSITIVE_INFINITY) <= t);
    const results = await Promise.all(due.map((i) => measureSafely(i.measure)));
    const at = now();
    results.forEach((r, k) => {
      const item = due[k]!;
      const m: Measurement = { ...r, at };
      item.track.add(m);
      opts.onMeasurement?.(item.track, m);
    });
  }
}
