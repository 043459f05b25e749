// A ClawStorm executor as a k6 scenario. The six executors are k6's six with the same option
// names, so this is one to one, with two adjustments k6 needs: durations as k6 duration text, and
// arrival rates as whole numbers (k6's rate options are integers; 0.5/s is written 1 per 2 s).
import type { ExecutorConfig } from '../../load/executors/index.ts';
import { formatDuration } from '../../util/duration.ts';
import { ExportError } from '../common.ts';

/** The k6 scenario object (its shape is @types/k6's Scenario; checked when the script compiles). */
export type K6Scenario = Record<string, string | number | Array<{ duration: string; target: number }>>;

export interface ExecutorMapping {
  scenario: K6Scenario;
  /** Options with no k6 equivalent, and what the k6 run does instead. */
  notes: string[];
}

const d = formatDuration;

/** Smallest factor (up to 10,000) that makes every rate a whole number, or undefined. */
export function integerRateFactor(rates: readonly number[]): number | undefined {
  for (let k = 1; k <= 10_000; k++) {
    if (rates.every((r) => Math.abs(r * k - Math.round(r * k)) < 1e-9 * Math.max(1, r * k))) return k;
  }
  return undefined;
}

function rates(rs: readonly number[], timeUnitMs: number, where: string): { values: number[]; timeUnit: string } {
  const k = integerRateFactor(rs);
  if (k === undefined) throw new ExportError(`${where}: the arrival rates ${rs.join(', ')} cannot be written as whole numbers per time unit, which k6 needs`);
  return { values: rs.map((r) => Math.round(r * k)), timeUnit: d(timeUnitMs * k) };
}

export function k6Scenario(cfg: ExecutorConfig, where: string): ExecutorMapping {
  const base: K6Scenario = { executor: cfg.executor, ...(cfg.startTime > 0 ? { startTime: d(cfg.startTime) } : {}), gracefulStop: d(cfg.gracefulStop) };
  const notes: string[] = [];
  switch (cfg.executor) {
    case 'per-vu-iterations':
      if (cfg.barrier) {
        notes.push('barrier: k6 has no start barrier; it initialises every VU before the scenario starts, so first iterations start close together but not in one tick');
      }
      return { scenario: { ...base, vus: cfg.vus, iterations: cfg.iterations, maxDuration: d(cfg.maxDuration) }, notes };
    case 'shared-iterations':
      return { scenario: { ...base, vus: cfg.vus, iterations: cfg.iterations, maxDuration: d(cfg.maxDuration) }, notes };
    case 'constant-vus':
      return { scenario: { ...base, vus: cfg.vus, duration: d(cfg.duration) }, notes };
    case 'ramping-vus':
      return {
        scenario: { ...base, startVUs: cfg.startVUs, gracefulRampDown: d(cfg.gracefulRampDown), stages: cfg.stages.map((s) => ({ duration: d(s.duration), target: s.target })) },
        notes,
      };
    case 'constant-arrival-rate': {
      const r = rates([cfg.rate], cfg.timeUnit, where);
      return {
        scenario: {
          ...base,
          rate: r.values[0] as number,
          timeUnit: r.timeUnit,
          duration: d(cfg.duration),
          preAllocatedVUs: cfg.preAllocatedVUs,
          ...(cfg.maxVUs === undefined ? {} : { maxVUs: cfg.maxVUs }),
        },
        notes: [...notes, ...openModelNotes()],
      };
    }
    case 'ramping-arrival-rate': {
      const r = rates([cfg.startRate, ...cfg.stages.map((s) => s.target)], cfg.timeUnit, where);
      return {
        scenario: {
          ...base,
          startRate: r.values[0] as number,
          timeUnit: r.timeUnit,
          stages: cfg.stages.map((s, i) => ({ duration: d(s.duration), target: r.values[i + 1] as number })),
          preAllocatedVUs: cfg.preAllocatedVUs,
          ...(cfg.maxVUs === undefined ? {} : { maxVUs: cfg.maxVUs }),
        },
        notes: [...notes, ...openModelNotes()],
      };
    }
  }
}

function openModelNotes(): string[] {
  return [
    'latency: k6 times each request from when it was sent, not from when the schedule meant it to start; ClawStorm adds the start lag (coordinated omission). Read k6 latencies of an open-model run next to dropped_iterations',
  ];
}
