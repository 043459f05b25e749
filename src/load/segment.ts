// Execution segments: how N runners share one scenario so that together they offer exactly the
// plan, with k6's semantics (so a ClawStorm runner and a k6 runner given the same segment do the
// same share of the work).
//
// A segment `from:to` is a slice (from, to] of the work; a sequence `0,1/3,2/3,1` is the chain of
// slices all runners of one run use. Integer quantities (VUs, iteration counts, stage targets) are
// not split by rounding each share — shares rounded apart do not add up — but by *striping*: the
// sequence's least common denominator L is a cycle of L slots, each slot belongs to exactly one
// segment (a segment of length a/L owns a of them, spread as evenly as possible), and a runner's
// share of a value v is the number of its slots among the first v. Every value is therefore split
// exactly, whatever N, and shares only ever grow with v.
//
// The same slots decide, for the arrival-rate executors, which arrivals of the global (unscaled)
// schedule a runner starts: arrival k belongs to the owner of slot k mod L. Pure; no I/O.
import type { ExecutorConfig } from './executors/index.ts';

/** A bad --segment, --segment-sequence or --shard: a usage error (exit code 2). */
export class SegmentError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'SegmentError';
  }
}

// ── exact rationals ──────────────────────────────────────────────────────────

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** A non-negative rational in lowest terms (segment bounds are exact: 1/3 is not 0.333…). */
export class Rational {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint) {
    if (den === 0n) throw new SegmentError('a fraction cannot have a zero denominator');
    const sign = den < 0n ? -1n : 1n;
    const g = gcd(num, den) || 1n;
    this.num = (sign * num) / g;
    this.den = (sign * den) / g;
  }

  static of(n: number | bigint, d: number | bigint = 1n): Rational {
    return new Rational(BigInt(n), BigInt(d));
  }

  /** `1/3`, `0.25`, `25%` (whole percent, as k6 takes it), `1`. */
  static parse(text: string): Rational {
    const s = text.trim();
    let m = /^(\d+)%$/.exec(s);
    if (m) return new Rational(BigInt(m[1] as string), 100n);
    m = /^(\d+)\/(\d+)$/.exec(s);
    if (m) {
      if (BigInt(m[2] as string) === 0n) throw new SegmentError(`"${text}" has a zero denominator`);
      return new Rational(BigInt(m[1] as string), BigInt(m[2] as string));
    }
    m = /^(\d*)(?:\.(\d*))?$/.exec(s);
    if (m && s !== '' && s !== '.' && /\d/.test(s)) {
      const whole = m[1] || '0';
      const frac = m[2] ?? '';
      return new Rational(BigInt(whole + frac), 10n ** BigInt(frac.length));
    }
    throw new SegmentError(`"${text}" is not a fraction, decimal or percentage (expected e.g. 1/3, 0.5 or 50%)`);
  }

  cmp(o: Rational): number {
    const d = this.num * o.den - o.num * this.den;
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }

  sub(o: Rational): Rational {
    return new Rational(this.num * o.den - o.num * this.den, this.den * o.den);
  }

  /** k6's spelling: `0`, `1`, `2/3`. */
  toString(): string {
    return this.den === 1n ? String(this.num) : `${this.num}/${this.den}`;
  }
}

const ZERO = Rational.of(0);
const ONE = Rational.of(1);

// ── segments and sequences ───────────────────────────────────────────────────

export interface Segment {
  from: Rational;
  to: Rational;
}

function segment(from: Rational, to: Rational): Segment {
  if (from.cmp(ZERO) < 0) throw new SegmentError(`segment start ${from} must be at least 0`);
  if (from.cmp(to) >= 0) throw new SegmentError(`segment start ${from} must be less than its end ${to}`);
  if (to.cmp(ONE) > 0) throw new SegmentError(`segment end ${to} cannot be more than 1`);
  return { from, to };
}

export function segmentString(s: Segment): string {
  return `${s.from}:${s.to}`;
}

export function sequenceString(seq: readonly Segment[]): string {
  return seq.length === 0 ? '' : [(seq[0] as Segment).from, ...seq.map((s) => s.to)].map(String).join(',');
}

/**
 * `--segment`: `from:to` (`1/3:2/3`, `0.5:1`, `50%:100%`), or one value meaning `0:value`; an empty
 * text is the whole run, `0:1`.
 */
export function parseSegment(text: string): Segment {
  const t = text.trim();
  if (t === '') return { from: ZERO, to: ONE };
  const parts = t.split(':');
  if (parts.length > 2) throw new SegmentError(`segment "${text}": expected from:to, e.g. 1/3:2/3`);
  const [a, b] = parts.length === 2 ? (parts as [string, string]) : ['0', parts[0] as string];
  try {
    return segment(Rational.parse(a), Rational.parse(b));
  } catch (err) {
    throw new SegmentError(`segment "${text}": ${(err as Error).message}`);
  }
}

/** `--segment-sequence`: comma-separated points, strictly increasing, within [0, 1]. */
export function parseSequence(text: string): Segment[] {
  const t = text.trim();
  if (t === '') return [];
  const points = t.split(',');
  if (points.length < 2) throw new SegmentError(`segment sequence "${text}": at least 2 points are needed, e.g. 0,1/2,1`);
  try {
    const rats = points.map((p) => Rational.parse(p));
    return rats.slice(1).map((to, i) => segment(rats[i] as Rational, to));
  } catch (err) {
    throw new SegmentError(`segment sequence "${text}": ${(err as Error).message}`);
  }
}

/** The sequence completed to cover 0…1 (k6 fills the gaps before and after). */
function fill(seq: readonly Segment[], seg: Segment): Segment[] {
  const out = seq.length === 0 ? [seg] : [...seq];
  const first = out[0] as Segment;
  const last = out[out.length - 1] as Segment;
  if (first.from.cmp(ZERO) !== 0) out.unshift({ from: ZERO, to: first.from });
  if (last.to.cmp(ONE) !== 0) out.push({ from: last.to, to: ONE });
  return out;
}

// ── striping ─────────────────────────────────────────────────────────────────

/**
 * Bounds on the striping table: it has one slot per unit of the sequence's common denominator and
 * is built by a loop over slots × segments. Shards of up to 100,000 runners (a Kubernetes Job's
 * limit) fit; a sequence of decimals with nine digits each does not, and is refused.
 */
export const MAX_LCD = 1_000_000;
const MAX_STRIPING_WORK = 200_000_000;

interface Striping {
  lcd: number;
  /** Per segment of the sequence, its slots in 0…lcd−1, ascending. */
  owned: number[][];
  /** Slot → index of the segment that owns it. */
  owner: Int32Array;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

/**
 * k6's slot assignment: walk the slots in order; give each to the first segment, largest first,
 * that is due one — a segment with a of L slots that has taken c so far is due at slot c·L/a. So a
 * third takes every third slot and two segments of 1/2 alternate.
 */
function stripe(lengths: readonly Rational[]): Striping {
  const lcdBig = lengths.reduce((acc, l) => lcm(acc, l.den), 1n);
  if (lcdBig > BigInt(MAX_LCD)) {
    throw new SegmentError(`the segment sequence's common denominator ${lcdBig} is above ${MAX_LCD}; use coarser fractions (e.g. 1/3, not 0.333333)`);
  }
  const lcd = Number(lcdBig);
  if (lcd * lengths.length > MAX_STRIPING_WORK) {
    throw new SegmentError(`a sequence of ${lengths.length} segments over a common denominator of ${lcd} is too fine to stripe; use fewer or coarser segments`);
  }
  const slots = lengths.map((l) => Number((l.num * lcdBig) / l.den));
  // Largest first; equal sizes keep their sequence order (a stable sort, as k6's).
  const order = slots.map((_, i) => i).sort((a, b) => (slots[b] as number) - (slots[a] as number));
  const taken = slots.map(() => 0);
  const owned: number[][] = slots.map(() => []);
  const owner = new Int32Array(lcd).fill(-1);
  for (let i = 0; i < lcd; i++) {
    for (const s of order) {
      // Due when i ≥ taken·L/a, i.e. i·a ≥ taken·L (exact in doubles: both sides stay below 2^53).
      if (i * (slots[s] as number) >= (taken[s] as number) * lcd) {
        taken[s] = (taken[s] as number) + 1;
        (owned[s] as number[]).push(i);
        owner[i] = s;
        break;
      }
    }
    if (owner[i] === -1) throw new Error(`striping left slot ${i} of ${lcd} without an owner (segment lengths do not add up to 1)`);
  }
  return { lcd, owned, owner };
}

// ── the tuple: one segment within its sequence ───────────────────────────────

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a whole number ≥ 0, got ${value}`);
}

/**
 * A runner's segment together with the sequence it belongs to (k6's ExecutionTuple): everything
 * needed to scale a count or to tell whether an index is this runner's.
 */
export class ExecutionTuple {
  readonly segment: Segment;
  /** The sequence, filled to cover 0…1. */
  readonly sequence: readonly Segment[];
  /** Position of `segment` in `sequence`. */
  readonly index: number;
  private readonly striping: Striping;

  private constructor(seg: Segment, sequence: readonly Segment[], index: number, striping: Striping) {
    this.segment = seg;
    this.sequence = sequence;
    this.index = index;
    this.striping = striping;
  }

  /**
   * The tuple for `segment` in `sequence` (empty: the segment alone, filled around). The segment
   * must be one of the sequence's segments exactly: a runner whose bounds are not adjacent points
   * of the sequence would overlap or miss other runners' work.
   */
  static of(seg: Segment, sequence: readonly Segment[] = []): ExecutionTuple {
    for (let i = 1; i < sequence.length; i++) {
      if ((sequence[i] as Segment).from.cmp((sequence[i - 1] as Segment).to) !== 0) {
        throw new SegmentError(`segment sequence ${sequenceString(sequence)}: segment ${i + 1} does not start where segment ${i} ends`);
      }
    }
    const filled = fill(sequence, seg);
    const index = filled.findIndex((s) => s.from.cmp(seg.from) === 0 && s.to.cmp(seg.to) === 0);
    if (index < 0) {
      throw new SegmentError(`segment ${segmentString(seg)} is not one of the segments of the sequence ${sequenceString(filled)}: its bounds must be adjacent points of the sequence`);
    }
    return new ExecutionTuple(seg, filled, index, stripe(filled.map((s) => s.to.sub(s.from))));
  }

  /** Parse `--segment` and `--segment-sequence` together. */
  static parse(segmentText: string, sequenceText = ''): ExecutionTuple {
    return ExecutionTuple.of(parseSegment(segmentText), parseSequence(sequenceText));
  }

  /** The whole run on one runner. */
  static whole(): ExecutionTuple {
    return ExecutionTuple.of({ from: ZERO, to: ONE });
  }

  get lcd(): number {
    return this.striping.lcd;
  }

  /** True when this tuple is the whole run (no sharding). */
  get isWhole(): boolean {
    return this.sequence.length === 1;
  }

  private get slots(): number[] {
    return this.striping.owned[this.index] as number[];
  }

  /** This runner's share of a count: the shares of every segment of the sequence add up to `value`. */
  scale(value: number): number {
    checkCount(value, 'a scaled value');
    const { lcd } = this.striping;
    const slots = this.slots;
    const rest = value % lcd;
    let below = 0;
    while (below < slots.length && (slots[below] as number) < rest) below += 1;
    return Math.floor(value / lcd) * slots.length + below;
  }

  /** Whether global index k (0-based) is this runner's. */
  owns(k: number): boolean {
    checkCount(k, 'an index');
    return this.striping.owner[k % this.striping.lcd] === this.index;
  }

  /** The global index (0-based) of this runner's n-th item (0-based): k6's segmented index. */
  globalIndex(n: number): number {
    checkCount(n, 'a local index');
    const slots = this.slots;
    return Math.floor(n / slots.length) * this.striping.lcd + (slots[n % slots.length] as number);
  }

  /** k6's striped offsets: the first slot, the gaps to each next one (the last wraps), the cycle length. */
  stripedOffsets(): { start: number; offsets: number[]; lcd: number } {
    const { lcd } = this.striping;
    const slots = this.slots;
    const start = slots[0] as number;
    const offsets = slots.slice(1).map((s, i) => s - (slots[i] as number));
    offsets.push(start + lcd - (slots[slots.length - 1] as number));
    return { start, offsets, lcd };
  }

  /**
   * The tuple re-cut by a count (k6's GetNewExecutionTupleFromValue): every segment's new length is
   * its share of `value` divided by `value`, segments with no share drop out. A runner's share of
   * iterations then follows its share of VUs. Undefined when this runner's share of `value` is 0.
   */
  forValue(value: number): ExecutionTuple | undefined {
    checkCount(value, 'a value');
    if (value < 1) return undefined;
    if (value % this.striping.lcd === 0) return this;
    const shares = this.sequence.map((_, i) => scaleIn(this.striping, i, value));
    if (shares[this.index] === 0) return undefined;
    const kept: Segment[] = [];
    let prev = 0;
    let index = -1;
    shares.forEach((n, i) => {
      if (n === 0) return;
      if (i === this.index) index = kept.length;
      kept.push({ from: Rational.of(prev, value), to: Rational.of(prev + n, value) });
      prev += n;
    });
    const seg = kept[index] as Segment;
    return new ExecutionTuple(seg, kept, index, stripe(kept.map((s) => s.to.sub(s.from))));
  }

  toString(): string {
    return `${segmentString(this.segment)} in ${sequenceString(this.sequence)}`;
  }
}

function scaleIn(st: Striping, index: number, value: number): number {
  const slots = st.owned[index] as number[];
  const rest = value % st.lcd;
  let below = 0;
  while (below < slots.length && (slots[below] as number) < rest) below += 1;
  return Math.floor(value / st.lcd) * slots.length + below;
}

/** Largest runner count `--shard` accepts (a Kubernetes Indexed Job's completions limit). */
export const MAX_SHARDS = 100_000;

/**
 * `--shard i/N`: runner i of N (1-based), the segment (i−1)/N : i/N of the even sequence
 * 0, 1/N, …, 1 — what the k6-operator gives its runners.
 */
export function parseShard(text: string): ExecutionTuple {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new SegmentError(`shard "${text}": expected i/N, runner i of N counting from 1 (e.g. 2/3)`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || n > MAX_SHARDS) throw new SegmentError(`shard "${text}": N must be between 1 and ${MAX_SHARDS}`);
  if (i < 1 || i > n) throw new SegmentError(`shard "${text}": i must be between 1 and N (${n})`);
  return shardTuple(i, n);
}

export function shardTuple(i: number, n: number): ExecutionTuple {
  const seq = evenSequence(n);
  return ExecutionTuple.of(seq[i - 1] as Segment, seq);
}

/** 0, 1/n, 2/n, …, 1 as segments. */
export function evenSequence(n: number): Segment[] {
  return Array.from({ length: n }, (_, i) => ({ from: Rational.of(i, n), to: Rational.of(i + 1, n) }));
}

// ── executors ────────────────────────────────────────────────────────────────

/** The VU pool an open-model executor may grow to (maxVUs defaults to preAllocatedVUs). */
function poolMax(c: { preAllocatedVUs: number; maxVUs?: number | undefined }): number {
  return Math.max(c.maxVUs ?? c.preAllocatedVUs, c.preAllocatedVUs);
}

/**
 * The executor config a runner runs for its segment. Closed-model executors are fully described
 * by it. Arrival-rate executors keep the global rate and schedule (only their VU pool is scaled):
 * a runner walks the whole schedule and starts only the arrivals `ownsIteration` gives it.
 */
export function scaleExecutor(cfg: ExecutorConfig, t: ExecutionTuple): ExecutorConfig {
  switch (cfg.executor) {
    case 'per-vu-iterations':
      // `iterations` is per VU: the runner's share of VUs carries its share of the work.
      return { ...cfg, vus: t.scale(cfg.vus) };
    case 'shared-iterations': {
      // Iterations follow the VUs: a runner with no VU gets no iteration, and the shares of both
      // still add up (k6 re-cuts the sequence by the VU count before scaling iterations).
      const byVus = t.forValue(cfg.vus);
      return { ...cfg, vus: t.scale(cfg.vus), iterations: byVus === undefined ? 0 : byVus.scale(cfg.iterations) };
    }
    case 'constant-vus':
      return { ...cfg, vus: t.scale(cfg.vus) };
    case 'ramping-vus':
      return { ...cfg, startVUs: t.scale(cfg.startVUs), stages: cfg.stages.map((s) => ({ ...s, target: t.scale(s.target) })) };
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return {
        ...cfg,
        preAllocatedVUs: t.scale(cfg.preAllocatedVUs),
        ...(cfg.maxVUs === undefined ? {} : { maxVUs: t.scale(cfg.maxVUs) }),
      };
  }
}

/**
 * Whether the runner has anything to do for this executor (k6's HasWork). A runner without work
 * skips the executor: its scaled config may hold 0 VUs, which the executor schemas reject.
 */
export function executorHasWork(cfg: ExecutorConfig, t: ExecutionTuple): boolean {
  switch (cfg.executor) {
    case 'per-vu-iterations':
    case 'constant-vus':
      return t.scale(cfg.vus) > 0;
    case 'shared-iterations': {
      const s = scaleExecutor(cfg, t) as typeof cfg;
      return s.vus > 0 && s.iterations > 0;
    }
    case 'ramping-vus':
      return Math.max(t.scale(cfg.startVUs), ...cfg.stages.map((s) => t.scale(s.target))) > 0;
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return t.scale(poolMax(cfg)) > 0;
  }
}

/**
 * The tuple that numbers this runner's iterations: for arrival-rate executors the sequence re-cut
 * by the VU pool (so arrivals follow VUs and a runner without VUs owns no arrival), for
 * shared-iterations re-cut by VUs, otherwise the runner's own tuple.
 */
function iterationTuple(cfg: ExecutorConfig, t: ExecutionTuple): ExecutionTuple | undefined {
  switch (cfg.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return t.forValue(poolMax(cfg));
    case 'shared-iterations':
      return t.forValue(cfg.vus);
    default:
      return t;
  }
}

export interface ShardPlan {
  /** What this runner runs (see scaleExecutor). */
  config: ExecutorConfig;
  /** False: this runner gets none of the executor's work and skips it. */
  hasWork: boolean;
  /**
   * Arrival-rate executors only: whether this runner starts arrival k (0-based) of the global,
   * unscaled schedule. Over all runners of a sequence every k has exactly one owner.
   */
  ownsIteration: ((k: number) => boolean) | undefined;
  /**
   * The run-wide number of this runner's n-th iteration (0-based, in start order), unique over all
   * runners: what `{{iteration}}` renders to, so idempotency keys and names built from it do not
   * collide between runners (k6's `iterationInTest`).
   */
  globalIteration: (n: number) => number;
  /** The run-wide id (1-based) of this runner's VU `vu` (1-based), unique over all runners (k6's `idInTest`). */
  globalVu: (vu: number) => number;
}

/** Everything a runner needs to run its segment of one executor. */
export function planShard(cfg: ExecutorConfig, t: ExecutionTuple): ShardPlan {
  const hasWork = executorHasWork(cfg, t);
  const iter = iterationTuple(cfg, t);
  const open = cfg.executor === 'constant-arrival-rate' || cfg.executor === 'ramping-arrival-rate';
  return {
    config: scaleExecutor(cfg, t),
    hasWork,
    ownsIteration: open ? (k) => iter !== undefined && iter.owns(k) : undefined,
    globalIteration: (n) => {
      if (iter === undefined) throw new RangeError(`segment ${segmentString(t.segment)} has no iterations of this ${cfg.executor} executor`);
      return iter.globalIndex(n);
    },
    globalVu: (vu) => {
      if (!Number.isSafeInteger(vu) || vu < 1) throw new RangeError(`a VU id counts from 1, got ${vu}`);
      return t.globalIndex(vu - 1) + 1;
    },
  };
}
