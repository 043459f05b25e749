// The `autoscale` section of results.json (schema v2): what an HPA or KEDA ScaledObject decided sync
// by sync over a run's series (a replay) or on a live test bed, and what that meant for capacity.
// Times in the series are unix seconds; numbers that were not measured are null, never 0.
import { z } from 'zod';

const Num = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v), { message: 'expected a finite number' });
const Count = z.number().int().min(0);
const T = z.number();

export const AutoscaleSectionSchema = z.object({
  /** `replay`: decisions computed from stored series; `live`: the test bed's own controller. */
  mode: z.enum(['replay', 'live']),
  source: z.object({ kind: z.enum(['hpa', 'keda']), file: z.string(), name: z.string(), minReplicas: Count, maxReplicas: Count }),
  window: z.object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) }),
  /** The HPA sync period the decisions were taken at (15 s in a cluster; shortened on a test bed). */
  syncPeriodSeconds: z.number().positive(),
  /** KEDA's pollingInterval (ScaledObjects only). */
  pollingIntervalSeconds: z.number().positive().nullable().default(null),
  prometheus: z.string(),
  /** The load run whose window was replayed. */
  run: z.object({ id: z.string(), dir: z.string() }).nullable().default(null),
  queries: z.object({
    pods: z.string(),
    podLabel: z.string(),
    replicas: z.string(),
    reads: z.array(z.object({ key: z.string(), kind: z.string(), query: z.string(), avgInner: z.string().nullable() })),
  }),
  /** Requests each pod was given for Resource utilisation (cores, bytes), when a metric needed them. */
  requests: z.object({ cpu: Num, memory: Num }).nullable().default(null),
  guardrails: z.object({ degraded: z.boolean(), degradedWindows: Count, disk: z.boolean(), canaryMaxReplicas: Count.nullable() }),
  /** Grid points in the window, and how many of them had a replica count to decide on. */
  syncs: Count,
  decided: Count,
  series: z.array(
    z.object({
      t: T,
      /** scale.spec.replicas as read. */
      replicas: Count.nullable(),
      /** Pods that existed (scrape targets). */
      ready: Count,
      desired: Count.nullable(),
      /** What the metrics asked for before stabilisation, policies and limits. */
      recommendation: Count.nullable(),
      /** The decision with avg() over-reads corrected. */
      corrected: Count.nullable(),
      metrics: z.record(z.string(), z.object({ current: Num.nullable(), target: Num.nullable(), unit: z.string() })),
    }),
  ),
  events: z.array(z.object({ t: T, from: Count, to: Count, reason: z.string(), conditions: z.array(z.string()) })),
  lag: z.object({
    /** Seconds in which load per replica exceeded the target while fewer replicas ran than the metrics asked for. */
    totalSeconds: z.number().min(0),
    intervals: z.array(
      z.object({
        from: T,
        to: T,
        seconds: z.number().min(0),
        /** Most replicas missing against the recommendation. */
        maxShortfall: Count,
        /** Most load above the target, % of the target. */
        maxExcessPct: Num.nullable(),
        /** What held the replicas back: stabilisation, a policy limit, maxReplicas, a guardrail, replicas still starting. */
        causes: z.array(z.string()),
      }),
    ),
  }),
  overRead: z.object({
    /** The metrics whose query is a top-level avg(): the per-series query checked under it. */
    checked: z.array(z.object({ key: z.string(), query: z.string(), inner: z.string() })),
    syncsAffected: Count,
    maxExtraReplicas: z.number().int(),
    points: z.array(
      z.object({
        t: T,
        key: z.string(),
        pods: Count,
        present: Count,
        missing: z.array(z.string()),
        avgPresent: Num.nullable(),
        perReplica: Num.nullable(),
        desired: Count.nullable(),
        correctedDesired: Count.nullable(),
        extraReplicas: z.number().int(),
      }),
    ),
  }),
  guardrailHolds: z.array(z.object({ t: T, guardrail: z.string(), wanted: Count, allowed: Count, detail: z.string() })),
  /** Enabled guardrails without a signal: how many syncs, from when. */
  guardrailNoData: z.array(z.object({ guardrail: z.string(), syncs: Count, first: T })),
  /** Where series were missing or unusable, consecutive syncs with the same gap merged. */
  gaps: z.array(z.object({ from: T, to: T, syncs: Count, what: z.string(), detail: z.string() })),
  /** The replay compared with a live controller's log: empty `differing` means the same decisions. */
  liveDiff: z
    .object({
      log: z.string(),
      compared: Count,
      onlyLive: z.array(T),
      onlyReplay: z.array(T),
      differing: z.array(z.object({ t: T, path: z.string(), live: z.unknown(), replay: z.unknown() })),
    })
    .nullable()
    .default(null),
  /** Scale-ups and scale-downs the live bed carried out, with how long each took. */
  actuations: z.array(z.object({ at: T, action: z.enum(['start', 'stop']), gateway: z.string(), ok: z.boolean(), ms: Num, detail: z.string().optional() })).default([]),
});

export type AutoscaleSection = z.output<typeof AutoscaleSectionSchema>;
export type AutoscaleSectionInput = z.input<typeof AutoscaleSectionSchema>;
