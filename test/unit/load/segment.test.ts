// Execution segments: k6's parsing rules, its striping (checked against the figures of k6's own
// tests), and the property sharding rests on — N runners together offer exactly the plan.
import { describe, expect, it } from 'vitest';
import { constantSchedule, parseExecutorConfig, rampingSchedule, type ArrivalSchedule, type ExecutorConfig } from '../../../src/load/executors/index.ts';
import {
  ExecutionTuple,
  SegmentError,
  evenSequence,
  parseSegment,
  parseSequence,
  parseShard,
  planShard,
  segmentString,
  sequenceString,
  shardTuple,
  type ShardPlan,
} from '../../../src/load/segment.ts';

const tuple = (seg: string, seq = '') => ExecutionTuple.parse(seg, seq);

describe('parsing', () => {
  it('segments: from:to, a single value meaning 0:value, empty meaning the whole run; fractions, decimals, percentages', () => {
    expect(segmentString(parseSegment('1/3:2/3'))).toBe('1/3:2/3');
    expect(segmentString(parseSegment('0.5:1.0'))).toBe('1/2:1');
    expect(segmentString(parseSegment('50%:75%'))).toBe('1/2:3/4');
    expect(segmentString(parseSegment('2/4:75%'))).toBe('1/2:3/4');
    expect(segmentString(parseSegment('20%'))).toBe('0:1/5');
    expect(segmentString(parseSegment('0.2'))).toBe('0:1/5');
    expect(segmentString(parseSegment(''))).toBe('0:1');
  });

  it('bad segments say what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['2/3:1/3', /start 2\/3 must be less than its end 1\/3/],
      ['1/2:1/2', /must be less than its end/],
      ['0:3/2', /end 3\/2 cannot be more than 1/],
      ['-1/2:1', /not a fraction, decimal or percentage/],
      ['a:b', /"a" is not a fraction/],
      ['1/0:1', /zero denominator/],
      ['0:1/3:2/3', /expected from:to/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseSegment(text), text).toThrow(SegmentError);
      expect(() => parseSegment(text), text).toThrow(why);
    }
  });

  it('sequences: at least two points, strictly increasing, within 0…1', () => {
    expect(sequenceString(parseSequence('0,1/3,2/3,1'))).toBe('0,1/3,2/3,1');
    expect(sequenceString(parseSequence('0.5,0.7'))).toBe('1/2,7/10');
    expect(parseSequence('')).toEqual([]);
    for (const text of ['0.5', '1,1', '-0.5,1', '1/2,1/2', '1/2,1/3', '0,1,1/2', '0,3/2']) {
      expect(() => parseSequence(text), text).toThrow(SegmentError);
    }
    expect(() => parseSequence('0.5')).toThrow(/at least 2 points/);
    expect(() => parseSequence('0,1,1/2')).toThrow(/must be less than its end/);
  });

  it('a segment must be one of the sequence’s segments, not just inside it', () => {
    expect(() => tuple('0:1/2', '0,1/3,2/3,1')).toThrow(/not one of the segments of the sequence 0,1\/3,2\/3,1/);
    expect(() => tuple('1/3:1', '0,1/3,2/3,1')).toThrow(/adjacent points/);
    // A sequence not covering 0…1 is filled around, as k6 does.
    expect(sequenceString(tuple('0:1/5', '0,1/5,1/2').sequence)).toBe('0,1/5,1/2,1');
    expect(sequenceString(tuple('1/3:2/3').sequence)).toBe('0,1/3,2/3,1');
  });

  it('--shard i/N is segment (i−1)/N : i/N of the even sequence; bad shards are refused with one line', () => {
    const t = parseShard('2/3');
    expect(segmentString(t.segment)).toBe('1/3:2/3');
    expect(sequenceString(t.sequence)).toBe('0,1/3,2/3,1');
    expect(segmentString(parseShard('1/1').segment)).toBe('0:1');
    expect(parseShard('1/1').isWhole).toBe(true);
    expect(() => parseShard('0/3')).toThrow(/i must be between 1 and N \(3\)/);
    expect(() => parseShard('4/3')).toThrow(/i must be between 1 and N/);
    expect(() => parseShard('1/0')).toThrow(/N must be between 1 and/);
    expect(() => parseShard('2of3')).toThrow(/expected i\/N/);
  });

  it('refuses sequences too fine to stripe instead of looping for ever', () => {
    expect(() => tuple('0:0.1234567', '0,0.1234567,0.7654321,1')).toThrow(/common denominator .* is above/);
  });
});

describe("striping (k6's figures)", () => {
  it('ExecutionTuple scale: 0:0.5 of 3 is 2, 0.5:1 of 3 is 1, with or without the sequence', () => {
    for (const seq of ['', '0,0.5,1']) {
      expect(tuple('0.5', seq).scale(2)).toBe(1);
      expect(tuple('0.5', seq).scale(3)).toBe(2);
      expect(tuple('0.5:1.0', seq).scale(2)).toBe(1);
      expect(tuple('0.5:1.0', seq).scale(3)).toBe(1);
    }
  });

  it('10 VUs over thirds are 4, 3, 3; 50 over 0:7/20 of 0,7/20,7/10,1 is 18', () => {
    expect([1, 2, 3].map((i) => shardTuple(i, 3).scale(10))).toEqual([4, 3, 3]);
    expect(tuple('0:7/20', '0,7/20,7/10,1').scale(50)).toBe(18);
  });

  it('striped offsets match k6 for full, partial and absent sequences', () => {
    const cases: Array<[string, string, number, number[], number]> = [
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0:0.3', 0, [4, 3, 3], 10],
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.3:0.5', 1, [4, 6], 10],
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.5:0.6', 2, [10], 10],
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.8:0.9', 8, [10], 10],
      ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
      ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
      ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0:0.2', 1, [4, 6], 10],
      ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
      ['0,0.2,0.5', '0:0.2', 3, [6, 4], 10],
      ['0,0.2,0.5', '0.2:0.5', 1, [4, 2, 4], 10],
      ['0,2/5,4/5', '0:2/5', 0, [3, 2], 5],
      ['0,2/5,4/5', '2/5:4/5', 1, [3, 2], 5],
      ['', '0:0.2', 1, [5], 5],
      ['', '0:1/5', 1, [5], 5],
      ['', '0:2/10', 1, [5], 5],
      ['', '0:0.4', 1, [2, 3], 5],
      ['', '0:2/5', 1, [2, 3], 5],
      ['', '2/5:4/5', 1, [3, 2], 5],
      ['', '0:4/10', 1, [2, 3], 5],
      ['', '1/10:5/10', 1, [2, 2, 4, 2], 10],
    ];
    for (const [seq, seg, start, offsets, lcd] of cases) {
      expect(tuple(seg, seq).stripedOffsets(), `${seg} in ${seq}`).toEqual({ start, offsets, lcd });
    }
  });

  it('common denominators: 0,1/3,5/6 → 6; 0,1/3,4/7 → 21', () => {
    expect(tuple('0:1/3', '0,1/3,5/6').lcd).toBe(6);
    expect(tuple('0:1/3', '0,1/3,4/7').lcd).toBe(21);
  });

  it('re-cutting by a value: 0:1/3 of thirds by 20 gives the sequence 0,7/20,7/10,1', () => {
    const t = tuple('0:1/3', '0,1/3,2/3,1');
    expect(sequenceString(t.forValue(20)!.sequence)).toBe('0,7/20,7/10,1');
    // k6's table for the same tuple: value → {scale(50)}
    expect(t.forValue(20)!.scale(50)).toBe(18);
    expect(t.forValue(3)!.scale(50)).toBe(17);
    expect(t.forValue(2)!.scale(50)).toBe(25);
    expect(t.forValue(1)!.scale(50)).toBe(50);
    expect(t.forValue(0)).toBeUndefined();
    // The last third gets nothing of 1, so re-cut by 1 it has no place.
    expect(tuple('2/3:1', '0,1/3,2/3,1').forValue(1)).toBeUndefined();
  });

  it('the segmented index walks the owned indexes in order (k6: 0:1/2, 1/2:3/4, 3/4:1 → evens, 1,5,9…, 3,7,11…)', () => {
    const seq = '0,1/2,3/4,1';
    const first = (t: ExecutionTuple) => Array.from({ length: 6 }, (_, n) => t.globalIndex(n));
    expect(first(tuple('0:1/2', seq))).toEqual([0, 2, 4, 6, 8, 10]);
    expect(first(tuple('1/2:3/4', seq))).toEqual([1, 5, 9, 13, 17, 21]);
    expect(first(tuple('3/4:1', seq))).toEqual([3, 7, 11, 15, 19, 23]);
    // And scaling counts exactly the owned indexes below the value.
    const t = tuple('1/2:3/4', seq);
    for (let v = 0; v < 30; v++) {
      const below = Array.from({ length: v }, (_, k) => k).filter((k) => t.owns(k)).length;
      expect(t.scale(v), `scale(${v})`).toBe(below);
    }
  });

  it('scaling never wobbles: shares only grow with the value', () => {
    for (const [seg, seq] of [['0:1/3', '0,1/3,2/3,1'], ['1/2:3/4', '0,1/2,3/4,1'], ['0.3:0.5', '0,0.3,0.5,0.6,0.7,0.8,0.9,1']] as const) {
      const t = tuple(seg, seq);
      for (let v = 1; v < 500; v++) expect(t.scale(v), `${seg} at ${v}`).toBeGreaterThanOrEqual(t.scale(v - 1));
    }
  });
});

// ── the plan is offered exactly ──────────────────────────────────────────────

const REPRESENTATIVE: ExecutorConfig[] = ([
  { executor: 'per-vu-iterations', vus: 500, iterations: 3, maxDuration: '5m', barrier: true },
  { executor: 'shared-iterations', vus: 25, iterations: 5000, maxDuration: '3m' },
  { executor: 'shared-iterations', vus: 5, iterations: 7 },
  { executor: 'constant-vus', vus: 50, duration: '45s' },
  { executor: 'ramping-vus', startVUs: 3, stages: [{ duration: '10s', target: 17 }, { duration: '20s', target: 100 }, { duration: '5s', target: 0 }] },
  { executor: 'constant-arrival-rate', rate: 50, duration: '10s', preAllocatedVUs: 50, maxVUs: 500 },
  { executor: 'constant-arrival-rate', rate: 7, timeUnit: '2s', duration: '9s', preAllocatedVUs: 4 },
  { executor: 'ramping-arrival-rate', startRate: 2, stages: [{ duration: '5s', target: 40 }, { duration: '5s', target: 40 }, { duration: '3s', target: 0 }], preAllocatedVUs: 0, maxVUs: 11 },
] as unknown[]).map((c) => parseExecutorConfig(c));

/** The integer quantities of a config that must add up over the shards. */
function quantities(c: ExecutorConfig): Record<string, number> {
  switch (c.executor) {
    case 'per-vu-iterations':
      return { vus: c.vus, iterations: c.vus * c.iterations };
    case 'shared-iterations':
      return { vus: c.vus, iterations: c.iterations };
    case 'constant-vus':
      return { vus: c.vus };
    case 'ramping-vus':
      return { startVUs: c.startVUs, ...Object.fromEntries(c.stages.map((s, i) => [`stages[${i}].target`, s.target])) };
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return { preAllocatedVUs: c.preAllocatedVUs, maxVUs: Math.max(c.maxVUs ?? c.preAllocatedVUs, c.preAllocatedVUs) };
  }
}

function scheduleOf(c: ExecutorConfig): ArrivalSchedule {
  if (c.executor === 'constant-arrival-rate') return constantSchedule(c.rate, c.timeUnit, c.duration);
  if (c.executor === 'ramping-arrival-rate') return rampingSchedule(c.startRate, c.timeUnit, c.stages);
  throw new Error(`${c.executor} has no arrival schedule`);
}

function arrivals(c: ExecutorConfig): number {
  const s = scheduleOf(c);
  let n = 0;
  while (s(n) !== undefined && n < 1_000_000) n += 1;
  return n;
}

function sumOver(plans: ShardPlan[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const p of plans) for (const [k, v] of Object.entries(quantities(p.config))) total[k] = (total[k] ?? 0) + v;
  return total;
}

describe('N runners offer exactly the plan', () => {
  for (const cfg of REPRESENTATIVE) {
    it(`${cfg.executor} ${JSON.stringify(quantities(cfg))}: shard totals equal the unsharded plan for N = 1…7`, () => {
      for (let n = 1; n <= 7; n++) {
        const plans = Array.from({ length: n }, (_, i) => planShard(cfg, shardTuple(i + 1, n)));
        expect(sumOver(plans), `N=${n}`).toEqual(quantities(cfg));
        // A runner with work never holds a config its executor would reject; one without is skipped.
        for (const p of plans) {
          if (p.hasWork) expect(() => parseExecutorConfig(toInput(p.config)), `N=${n}`).not.toThrow();
          else expect(Object.values(quantities(p.config)).some((v) => v === 0), `N=${n}: a runner without work has a 0 somewhere`).toBe(true);
        }
        // Everything else is the plan's own: durations, rates, timeUnit, graceful stops.
        for (const p of plans) expect(withoutQuantities(p.config)).toEqual(withoutQuantities(cfg));
      }
    });
  }

  for (const cfg of REPRESENTATIVE.filter((c) => c.executor.endsWith('arrival-rate'))) {
    it(`${cfg.executor}: the shards' arrivals are the unsharded schedule, each exactly once, N = 1…7`, () => {
      const total = arrivals(cfg);
      expect(total).toBeGreaterThan(10);
      for (let n = 1; n <= 7; n++) {
        const plans = Array.from({ length: n }, (_, i) => planShard(cfg, shardTuple(i + 1, n)));
        const owners = Array.from({ length: total }, (_, k) => plans.filter((p) => p.ownsIteration!(k)).length);
        const wrong = owners.map((c, k) => [k, c]).filter(([, c]) => c !== 1);
        expect(wrong, `N=${n}: arrivals without exactly one owner [index, owners]`).toEqual([]);
        // A runner without VUs owns no arrival (it could not start one).
        for (const p of plans.filter((x) => !x.hasWork)) expect(Array.from({ length: total }, (_, k) => p.ownsIteration!(k)).some(Boolean)).toBe(false);
        // Arrivals follow VUs: a runner's share of the schedule matches its share of the VU pool.
        const pool = quantities(cfg).maxVUs as number;
        for (const p of plans) {
          const mine = Array.from({ length: total }, (_, k) => p.ownsIteration!(k)).filter(Boolean).length;
          const share = (quantities(p.config).maxVUs as number) / pool;
          expect(Math.abs(mine - share * total), `N=${n}`).toBeLessThanOrEqual(pool);
        }
      }
    });
  }

  it('closed-model executors have no arrival predicate', () => {
    for (const cfg of REPRESENTATIVE.filter((c) => !c.executor.endsWith('arrival-rate'))) expect(planShard(cfg, shardTuple(1, 2)).ownsIteration).toBeUndefined();
  });

  it('run-wide iteration numbers and VU ids never collide between runners', () => {
    for (const cfg of REPRESENTATIVE) {
      for (let n = 2; n <= 5; n++) {
        const plans = Array.from({ length: n }, (_, i) => planShard(cfg, shardTuple(i + 1, n))).filter((p) => p.hasWork);
        const iters = plans.flatMap((p) => Array.from({ length: 40 }, (_, k) => p.globalIteration(k)));
        expect(new Set(iters).size, `${cfg.executor} N=${n} iterations`).toBe(iters.length);
        const vus = plans.flatMap((p) => Array.from({ length: 20 }, (_, k) => p.globalVu(k + 1)));
        expect(new Set(vus).size, `${cfg.executor} N=${n} VUs`).toBe(vus.length);
        expect(Math.min(...vus)).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('a non-even sequence (1/2, 1/4, 1/8, 1/8) still adds up and covers every arrival once', () => {
    const seq = parseSequence('0,1/2,3/4,7/8,1');
    const tuples = seq.map((s) => ExecutionTuple.of(s, seq));
    expect(tuples.map((t) => t.scale(10))).toEqual([5, 3, 1, 1]);
    expect(tuples.map((t) => t.scale(8))).toEqual([4, 2, 1, 1]);
    for (const cfg of REPRESENTATIVE) {
      const plans = tuples.map((t) => planShard(cfg, t));
      expect(sumOver(plans), cfg.executor).toEqual(quantities(cfg));
      if (cfg.executor.endsWith('arrival-rate')) {
        const total = arrivals(cfg);
        for (let k = 0; k < total; k++) expect(plans.filter((p) => p.ownsIteration!(k)).length, `arrival ${k}`).toBe(1);
      }
    }
  });

  it('one runner of one is the plan itself', () => {
    for (const cfg of REPRESENTATIVE) {
      const p = planShard(cfg, ExecutionTuple.whole());
      expect(p.config).toEqual(cfg);
      expect(p.hasWork).toBe(true);
      expect(p.globalIteration(7)).toBe(7);
      expect(p.globalVu(3)).toBe(3);
    }
  });

  it('even sequences are what the k6-operator hands out', () => {
    expect(sequenceString(evenSequence(4))).toBe('0,1/4,1/2,3/4,1');
    expect(Array.from({ length: 4 }, (_, i) => segmentString(shardTuple(i + 1, 4).segment))).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1']);
  });
});

/** Parsed config back to scenario-file input (durations as text), to run it through the schema again. */
function toInput(c: ExecutorConfig): Record<string, unknown> {
  const ms = (v: number) => `${v}ms`;
  const out: Record<string, unknown> = { ...c };
  for (const k of ['maxDuration', 'duration', 'timeUnit', 'gracefulStop', 'gracefulRampDown', 'startTime']) if (typeof out[k] === 'number') out[k] = ms(out[k] as number);
  if ('stages' in c) out.stages = c.stages.map((s) => ({ ...s, duration: ms(s.duration) }));
  return out;
}

function withoutQuantities(c: ExecutorConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const k of ['vus', 'iterations', 'startVUs', 'preAllocatedVUs', 'maxVUs']) delete out[k];
  if ('stages' in c) out.stages = c.stages.map((s) => s.duration);
  if (c.executor === 'per-vu-iterations') out.iterations = c.iterations;
  return out;
}
