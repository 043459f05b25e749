import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
// k6 style: one or more <number><unit> parts, largest first by convention ("1h30m", "1m30s", "500ms").
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parse a k6-style duration ("30s", "2m", "500ms", "1h30m", "1.5s") into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new Error('empty duration: expected e.g. "30s", "2m", "500ms"');
  if (s === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (m === null) {
      throw new Error(`invalid duration "${text}": expected <number><unit> parts with unit ms, s, m or h (e.g. "30s", "2m", "500ms", "1m30s")`);
    }
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  if (!Number.isFinite(total)) throw new Error(`invalid duration "${text}": not a finite number`);
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** A duration field in a schema: a string in, milliseconds out, one clear message on bad input. */
export const durationMs = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** Same, but must be > 0. */
export const positiveDurationMs = durationMs.refine((ms) => ms > 0, { message: 'duration must be greater than 0' });
