// Redelivery schedules as data: when a provider sends an acknowledged event again, with the same
// Idempotency-Key. Real providers do it soon after (their side timed out), much later (an operator
// pressed "redeliver", a retry schedule that runs for hours), and — the case a storm must not
// miss — after the gateway that acknowledged it was restarted. Each schedule picks a share of the
// acknowledged deliveries:
//   a delay after the acknowledgement, drawn from a distribution (uniform, exponential with a
//     cap, fixed) — every delay is bounded, so every storm ends;
//   `heal`: once the faulted gateway is back in rotation, a share of the keys it acknowledged
//     before the fault.
import { formatDuration, parseDuration } from '../util/duration.ts';

export type Delay =
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'exponential'; meanMs: number; maxMs: number }
  | { kind: 'fixed'; ms: number };

export interface RedeliverySchedule {
  /** Names the schedule's figures (`redeliveries_<name>`). */
  name: string;
  /** Share (0–1) of the acknowledged deliveries it sends again. */
  share: number;
  after: Delay | 'heal';
}

/** Today's schedule: 200–1,200 ms after the acknowledgement. */
export const SOON: RedeliverySchedule = { name: 'soon', share: 0.1, after: { kind: 'uniform', minMs: 200, maxMs: 1_200 } };
export const AFTER_HEAL: RedeliverySchedule = { name: 'after-heal', share: 0.5, after: 'heal' };

/** Longest delay any schedule may draw: a storm waits for its redeliveries before it counts. */
export const MAX_DELAY_MS = 3_600_000;

/** A delay drawn from the distribution, in [0, its cap]. */
export function drawDelay(d: Delay, rand: () => number = Math.random): number {
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return Math.round(d.minMs + rand() * (d.maxMs - d.minMs));
    case 'exponential':
      // Inverse transform; 1 - u keeps log() away from 0.
      return Math.min(d.maxMs, Math.max(0, Math.round(-d.meanMs * Math.log(1 - rand()))));
  }
}

/** The longest a delay of this distribution can be. */
export function delayCap(d: Delay): number {
  return d.kind === 'fixed' ? d.ms : d.maxMs;
}

/** Refuses what cannot run: shares outside 0–1, duplicate names, inverted or unbounded delays. */
export function checkSchedules(ss: readonly RedeliverySchedule[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const s of ss) {
    if (!/^[a-z][a-z0-9-]*$/.test(s.name)) problems.push(`redelivery schedule ${JSON.stringify(s.name)}: a name of lower-case letters, digits and "-"`);
    if (names.has(s.name)) problems.push(`redelivery schedule ${s.name}: named twice`);
    names.add(s.name);
    if (!(s.share >= 0 && s.share <= 1)) problems.push(`redelivery schedule ${s.name}: share must be 0–1 (got ${s.share})`);
    if (s.after === 'heal') continue;
    const d = s.after;
    const bad = (v: number) => !Number.isFinite(v) || v < 0 || v > MAX_DELAY_MS;
    if (d.kind === 'fixed' && bad(d.ms)) problems.push(`redelivery schedule ${s.name}: delay must be 0–1h`);
    if (d.kind === 'uniform' && (bad(d.minMs) || bad(d.maxMs) || d.minMs > d.maxMs)) problems.push(`redelivery schedule ${s.name}: uniform(min, max) needs 0 ≤ min ≤ max ≤ 1h`);
    if (d.kind === 'exponential' && (bad(d.meanMs) || bad(d.maxMs) || d.meanMs <= 0)) problems.push(`redelivery schedule ${s.name}: exponential(mean, max) needs a mean > 0 and a cap ≤ 1h`);
  }
  return problems;
}

/**
 * A schedule from the command line: `<name>=<share>:<when>`, where `<when>` is `heal`,
 * `uniform(<min>,<max>)`, `exponential(<mean>,<max>)` or `fixed(<delay>)`, durations as `200ms`,
 * `5s`, `1m`. Example: `later=0.2:exponential(5s,60s)`.
 */
export function parseSchedule(text: string): RedeliverySchedule {
  const m = /^([a-z][a-z0-9-]*)=([0-9.]+):(.+)$/.exec(text.trim());
  if (m === null) throw new RangeError(`redelivery schedule ${JSON.stringify(text)}: expected <name>=<share>:<heal | uniform(min,max) | exponential(mean,max) | fixed(delay)>`);
  const [, name, shareText, when] = m as unknown as [string, string, string, string];
  const share = Number(shareText);
  let after: RedeliverySchedule['after'];
  const fn = /^(uniform|exponential|fixed)\(([^)]*)\)$/.exec(when.trim());
  if (when.trim() === 'heal') after = 'heal';
  else if (fn === null) throw new RangeError(`redelivery schedule ${name}: unknown timing ${JSON.stringify(when)} (heal, uniform(min,max), exponential(mean,max), fixed(delay))`);
  else {
    const args = fn[2]!.split(',').map((x) => x.trim());
    const ms = (i: number) => {
      const v = args[i];
      if (v === undefined || v === '') throw new RangeError(`redelivery schedule ${name}: ${fn[1]}() needs ${fn[1] === 'fixed' ? 1 : 2} duration(s)`);
      try {
        return parseDuration(v);
      } catch (err) {
        throw new RangeError(`redelivery schedule ${name}: ${(err as Error).message}`);
      }
    };
    after = fn[1] === 'fixed' ? { kind: 'fixed', ms: ms(0) } : fn[1] === 'uniform' ? { kind: 'uniform', minMs: ms(0), maxMs: ms(1) } : { kind: 'exponential', meanMs: ms(0), maxMs: ms(1) };
  }
  const s = { name, share, after };
  const problems = checkSchedules([s]);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return s;
}

/** The command-line form again: `soon=0.1:uniform(200ms,1200ms)`. */
export function describeSchedule(s: RedeliverySchedule): string {
  const a = s.after;
  const f = formatDuration;
  const when = a === 'heal' ? 'heal' : a.kind === 'fixed' ? `fixed(${f(a.ms)})` : a.kind === 'uniform' ? `uniform(${f(a.minMs)},${f(a.maxMs)})` : `exponential(${f(a.meanMs)},${f(a.maxMs)})`;
  return `${s.name}=${s.share}:${when}`;
}
