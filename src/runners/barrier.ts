// The start barrier of a distributed run, through files so that it works the same on one machine
// and on a shared volume: each runner, once ready (target bound, scenarios read), writes its ready
// mark and waits; the starter (`gate --runners`) waits for every mark, then writes the barrier file
// with one start instant a little ahead, and every runner starts at that instant — as the
// k6-operator's runners start paused and its starter un-pauses them all.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { formatDuration } from '../util/duration.ts';
import { sleep } from '../util/sleep.ts';

const BarrierSchema = z.object({ startAt: z.number() });

export function readyMarkPath(resultsDir: string, runnerId: string): string {
  return path.join(resultsDir, `${runnerId.replace(/[^A-Za-z0-9_.-]/g, '_')}.ready`);
}

export function markReady(resultsDir: string, runnerId: string): void {
  fs.mkdirSync(resultsDir, { recursive: true });
  writeFileAtomic(readyMarkPath(resultsDir, runnerId), `${new Date().toISOString()}\n`);
}

/** Release every runner: all start at `now + leadMs` (their clocks read the same host, or NTP). */
export function releaseBarrier(file: string, leadMs = 500): number {
  const startAt = Date.now() + leadMs;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify({ startAt })}\n`);
  return startAt;
}

export class BarrierError extends Error {}

/** Wait (polling, bounded) for the barrier file, then until its start instant. Returns the instant. */
export async function awaitBarrier(file: string, timeoutMs: number, signal: AbortSignal, pollMs = 20): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new BarrierError('interrupted while waiting at the start barrier');
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      const r = BarrierSchema.safeParse(JSON.parse(text));
      if (!r.success) throw new BarrierError(`${file}: not a start barrier (${r.error.issues[0]?.message ?? 'bad content'})`);
      const wait = r.data.startAt - Date.now();
      if (wait > 0) await sleep(wait, signal);
      return r.data.startAt;
    }
    if (Date.now() >= deadline) throw new BarrierError(`not released within ${Math.round(timeoutMs / 1000)} s (${file})`);
    await sleep(pollMs, signal);
  }
}

export interface ReleaseWhenReadyOptions {
  resultsDir: string;
  /** The runners expected at the barrier. */
  runnerIds: readonly string[];
  file: string;
  /** Longest to wait for the last ready mark; keep it under the runners' own wait at the barrier. */
  timeoutMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
  pollMs?: number;
}

/**
 * The starter where no parent process launches the runners (pods of an Indexed Job): wait
 * (bounded) for every runner's ready mark, then release them together. Runners not ready by then
 * are left out rather than holding back the rest; the judge names them missing.
 */
export async function releaseWhenReady(o: ReleaseWhenReadyOptions): Promise<{ startAt: number; notReady: string[] }> {
  const deadline = Date.now() + o.timeoutMs;
  let notReady = [...o.runnerIds];
  let lastLine = 0;
  for (;;) {
    notReady = notReady.filter((id) => !fs.existsSync(readyMarkPath(o.resultsDir, id)));
    if (notReady.length === 0 || Date.now() >= deadline || o.signal.aborted) break;
    if (Date.now() - lastLine >= 5_000) {
      lastLine = Date.now();
      o.log(`barrier: ${o.runnerIds.length - notReady.length}/${o.runnerIds.length} runners ready; waiting for ${notReady.join(', ')}`);
    }
    await sleep(Math.min(o.pollMs ?? 200, Math.max(0, deadline - Date.now())), o.signal).catch(() => {});
  }
  if (o.signal.aborted) throw new BarrierError('interrupted before the runners were released');
  const startAt = releaseBarrier(o.file);
  o.log(
    notReady.length === 0
      ? `barrier: all ${o.runnerIds.length} runners ready; released together, starting at ${new Date(startAt).toISOString()}`
      : `barrier: ${notReady.join(', ')} not ready within ${formatDuration(o.timeoutMs)}; released the other ${o.runnerIds.length - notReady.length} at ${new Date(startAt).toISOString()}`,
  );
  return { startAt, notReady };
}
