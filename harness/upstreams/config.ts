import { z } from 'zod';

export const PROVIDERS = ['gmail', 'calendar', 'jira', 'github', 'gdrive'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const BucketSchema = z.object({
  /** Largest burst the bucket admits (in quota units). */
  capacity: z.number().positive(),
  /** Sustained quota units per second. */
  refillPerSec: z.number().positive(),
});
export type BucketLimits = z.output<typeof BucketSchema>;

export const ProviderLimitsSchema = z.object({
  /** Quota units one read costs (Gmail bills 5 units per messages.list / messages.get). */
  costPerRequest: z.number().positive(),
  /** Per (provider, user) budget: the user's OAuth token. null = unlimited. */
  perUser: BucketSchema.nullable(),
  /** Shared by every user of the provider (OAuth app / GitHub installation / Cloud project). null = unlimited. */
  perApp: BucketSchema.nullable(),
});
export type ProviderLimits = z.output<typeof ProviderLimitsSchema>;

/*
 * Default limits, and how they were scaled from the real providers for one machine.
 *
 * The shape of every real limit is kept (who shares a budget, what a call costs, bursts then a
 * steady refill). Per-user budgets are the real ones. The shared budget of each provider (OAuth
 * app / GitHub installation / Cloud project) is scaled to what one machine's fleet sees: a burst
 * of 10 reads, then about 100 reads/s. So the plan's connector burst (100 users reading all five
 * connectors at once) meets real 429s with Retry-After and has to queue and retry, and a
 * 500-user briefing spike drains through in seconds rather than being refused.
 *
 * - Gmail: 250 quota units per user per second, messages.list / messages.get cost 5 units (per
 *   user kept: 50 reads/s). Project budget: 50 units burst, 500 units/s (10 reads, 100 reads/s).
 * - GitHub: 5,000 requests per hour per token (per user kept). Installation budget: the hour
 *   compressed to 60 s (5,000/min ≈ 83/s), burst 10.
 * - Calendar: 600 requests per user per minute (10/s) kept; project budget burst 10, 100/s.
 * - Jira Cloud: ~10 requests/s per user token kept; app budget burst 10, 100/s.
 * - Drive: 12,000 requests per user per minute (200/s) kept; project budget burst 10, 100/s.
 * - Global (all providers, the shared egress of the test bed): 2,000/s, burst 2,000.
 */
export const DEFAULT_LIMITS: Record<Provider, ProviderLimits> = {
  gmail: { costPerRequest: 5, perUser: { capacity: 250, refillPerSec: 250 }, perApp: { capacity: 50, refillPerSec: 500 } },
  github: {
    costPerRequest: 1,
    perUser: { capacity: 5_000, refillPerSec: 5_000 / 3_600 },
    perApp: { capacity: 10, refillPerSec: 5_000 / 60 },
  },
  calendar: { costPerRequest: 1, perUser: { capacity: 10, refillPerSec: 10 }, perApp: { capacity: 10, refillPerSec: 100 } },
  jira: { costPerRequest: 1, perUser: { capacity: 10, refillPerSec: 10 }, perApp: { capacity: 10, refillPerSec: 100 } },
  gdrive: { costPerRequest: 1, perUser: { capacity: 200, refillPerSec: 200 }, perApp: { capacity: 10, refillPerSec: 100 } },
};
export const DEFAULT_GLOBAL: BucketLimits = { capacity: 2_000, refillPerSec: 2_000 };

const LatencySchema = z.object({
  /** Every answer waits base + uniform(0, jitter) ms; 429s are answered at once, as providers do. */
  base: z.number().min(0).max(60_000),
  jitter: z.number().min(0).max(60_000),
});

/** What may be changed: the config file and `PUT /admin/config` both take this partial shape. */
export const TunablesPatchSchema = z.object({
  latencyMs: LatencySchema.partial().optional(),
  /** Fraction of reads answered 503 (transient upstream failure), for retry drills. */
  errorRate: z.number().min(0).max(1).optional(),
  limits: z.partialRecord(z.enum(PROVIDERS), ProviderLimitsSchema.partial()).optional(),
  global: BucketSchema.nullable().optional(),
});
export type TunablesPatch = z.output<typeof TunablesPatchSchema>;

export interface Tunables {
  latencyMs: { base: number; jitter: number };
  errorRate: number;
  limits: Record<Provider, ProviderLimits>;
  global: BucketLimits | null;
}

export const DEFAULT_TUNABLES: Tunables = {
  latencyMs: { base: 30, jitter: 40 },
  errorRate: 0,
  limits: DEFAULT_LIMITS,
  global: DEFAULT_GLOBAL,
};

export const UpstreamsConfigSchema = TunablesPatchSchema.extend({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** Seed of the generated per-user data; same seed + user + date ⇒ same items. */
  seed: z.string().min(1).default('clawstorm'),
  /** The data's "today" (YYYY-MM-DD, UTC). Default: the current UTC date at each request. */
  anchorDate: z.iso.date().optional(),
  /** When set, /admin/* requires this bearer token. The test bed runs on loopback only. */
  adminToken: z.string().min(16).optional(),
});
export type UpstreamsConfig = z.output<typeof UpstreamsConfigSchema>;

/** Apply a patch on top of tunables; limits merge per provider and per field. */
export function applyPatch(base: Tunables, patch: TunablesPatch): Tunables {
  const limits = { ...base.limits };
  for (const p of PROVIDERS) {
    const lp = patch.limits?.[p];
    if (lp !== undefined) limits[p] = { ...limits[p], ...lp };
  }
  return {
    latencyMs: { ...base.latencyMs, ...patch.latencyMs },
    errorRate: patch.errorRate ?? base.errorRate,
    limits,
    global: patch.global === undefined ? base.global : patch.global,
  };
}
