import type { BucketLimits, Provider, Tunables } from './config.ts';

/** A token bucket on an injected clock (ms), so tests drive time by hand. */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSec: number;
  private tokens: number;
  private last: number;

  constructor(limits: BucketLimits, nowMs: number) {
    this.capacity = limits.capacity;
    this.refillPerSec = limits.refillPerSec;
    this.tokens = limits.capacity;
    this.last = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.last) / 1000) * this.refillPerSec);
      this.last = nowMs;
    }
  }

  /** Seconds until `cost` units are available (0 = available now). Does not take them. */
  waitFor(cost: number, nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= cost) return 0;
    // A cost above capacity can never be paid in one go; report the time to refill it anyway.
    return (cost - this.tokens) / this.refillPerSec;
  }

  take(cost: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= cost;
  }

  /** A full bucket is indistinguishable from a fresh one, so it may be forgotten. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }
}

export type LimitScope = 'user' | 'app' | 'global';
export type Admission = { ok: true } | { ok: false; retryAfterS: number; scope: LimitScope };

/**
 * The provider limits of one upstreams process: a bucket per (provider, user), one per provider
 * (the shared app/installation budget) and a global one. A request is admitted only when every
 * bucket it touches has room, and then all are charged, so a refused request costs nothing.
 */
export class RateLimiter {
  private tunables: Tunables;
  private readonly now: () => number;
  private userBuckets = new Map<string, TokenBucket>();
  private appBuckets = new Map<Provider, TokenBucket>();
  private globalBucket: TokenBucket | null = null;

  constructor(tunables: Tunables, now: () => number = Date.now) {
    this.tunables = tunables;
    this.now = now;
    this.reset(tunables);
  }

  /** New limits start with full buckets (a scenario changing limits starts from a clean slate). */
  reset(tunables: Tunables): void {
    this.tunables = tunables;
    const t = this.now();
    this.userBuckets = new Map();
    this.appBuckets = new Map();
    for (const [p, l] of Object.entries(tunables.limits) as Array<[Provider, Tunables['limits'][Provider]]>) {
      if (l.perApp !== null) this.appBuckets.set(p, new TokenBucket(l.perApp, t));
    }
    this.globalBucket = tunables.global === null ? null : new TokenBucket(tunables.global, t);
  }

  admit(provider: Provider, user: string): Admission {
    const t = this.now();
    const l = this.tunables.limits[provider];
    const cost = l.costPerRequest;
    const touched: Array<[TokenBucket, LimitScope]> = [];
    if (l.perUser !== null) {
      const key = `${provider}\u0000${user}`;
      let b = this.userBuckets.get(key);
      if (b === undefined) {
        b = new TokenBucket(l.perUser, t);
        this.userBuckets.set(key, b);
        if (this.userBuckets.size > 50_000) this.prune(t);
      }
      touched.push([b, 'user']);
    }
    const app = this.appBuckets.get(provider);
    if (app !== undefined) touched.push([app, 'app']);
    if (this.globalBucket !== null) touched.push([this.globalBucket, 'global']);

    let worst = 0;
    let scope: LimitScope = 'user';
    for (const [b, s] of touched) {
      const w = b.waitFor(cost, t);
      if (w > worst) {
        worst = w;
        scope = s;
      }
    }
    if (worst > 0) return { ok: false, retryAfterS: Math.max(1, Math.ceil(worst)), scope };
    for (const [b] of touched) b.take(cost, t);
    return { ok: true };
  }

  private prune(t: number): void {
    for (const [k, b] of this.userBuckets) if (b.isFull(t)) this.userBuckets.delete(k);
  }
}
