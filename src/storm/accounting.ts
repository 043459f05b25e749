// Webhook accounting on the receiving side: every delivery that got a 2xx (key → runId) is looked
// up in the gateway's runs accounting (`POST /admin/runs/lookup`: runId → times processed), once
// the queue has drained. Lost = acknowledged but never processed; duplicated = one key with more
// than one runId, or one run processed more than once. "Zero lost" is verified, not assumed.
import { z } from 'zod';

export const LookupAnswerSchema = z.object({
  runs: z.record(z.string(), z.object({ processed: z.number().int().min(0) })),
  summary: z.object({ asked: z.number(), processed: z.number(), missing: z.number(), duplicated: z.number() }),
  queueDepth: z.number().int().min(0),
  processing: z.number().int().min(0),
});
export type LookupAnswer = z.infer<typeof LookupAnswerSchema>;

const BATCH = 5_000;

export interface RunsEndpoint {
  /** Base URLs that answer /admin/runs/lookup (the load balancer first, then gateways). */
  urls: string[];
  adminToken: string;
}

async function post(url: string, token: string, runIds: string[], timeoutMs: number): Promise<LookupAnswer> {
  const res = await fetch(`${url}/admin/runs/lookup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ runIds }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}/admin/runs/lookup: HTTP ${res.status}`);
  return LookupAnswerSchema.parse(JSON.parse(text));
}

/** One lookup, trying each URL in turn (a gateway may be down or hung mid-drill). */
export async function lookupRuns(ep: RunsEndpoint, runIds: string[], timeoutMs = 2_000): Promise<LookupAnswer> {
  let lastErr: unknown;
  for (const url of ep.urls) {
    try {
      if (runIds.length <= BATCH) return await post(url, ep.adminToken, runIds, timeoutMs);
      const merged: LookupAnswer = { runs: {}, summary: { asked: 0, processed: 0, missing: 0, duplicated: 0 }, queueDepth: 0, processing: 0 };
      for (let i = 0; i < runIds.length; i += BATCH) {
        const a = await post(url, ep.adminToken, runIds.slice(i, i + BATCH), timeoutMs);
        Object.assign(merged.runs, a.runs);
        merged.summary.asked += a.summary.asked;
        merged.summary.processed += a.summary.processed;
        merged.summary.missing += a.summary.missing;
        merged.summary.duplicated += a.summary.duplicated;
        merged.queueDepth = a.queueDepth;
        merged.processing = a.processing;
      }
      return merged;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`runs accounting unreachable: ${(lastErr as Error | undefined)?.message ?? 'no URL'}`);
}

/** Queue depth (pending webhook jobs, fleet-wide), or null when nothing answered. */
export async function queueDepthOf(ep: RunsEndpoint, timeoutMs = 1_000): Promise<number | null> {
  try {
    return (await lookupRuns(ep, [], timeoutMs)).queueDepth;
  } catch {
    return null;
  }
}

export interface Accounting {
  /** Distinct keys acknowledged with a 2xx. */
  acknowledged: number;
  /** Distinct runIds among the acknowledgements. */
  runs: number;
  /** Acknowledged runs found processed at least once. */
  found: number;
  /** Acknowledged runs never processed by the deadline (must be 0). */
  lost: number;
  /** Keys answered with more than one runId, plus runs processed more than once. */
  duplicated: number;
  duplicatedKeys: number;
  duplicatedRuns: number;
  /** ms from the start of the wait until everything acknowledged was processed and the queue empty. */
  drainMs: number | null;
  /** The accounting could not be read (then lost/duplicated are not known). */
  error?: string;
  lostRunIds: string[];
}

/**
 * Wait (bounded) until every acknowledged run is processed and the queue is empty, then count.
 * `acks` may hold one key several times (redeliveries): same runId → fine, another → duplicate.
 */
export async function account(ep: RunsEndpoint, acks: ReadonlyArray<{ key: string; runId: string }>, opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal }): Promise<Accounting> {
  const byKey = new Map<string, Set<string>>();
  for (const a of acks) {
    let s = byKey.get(a.key);
    if (s === undefined) {
      s = new Set();
      byKey.set(a.key, s);
    }
    s.add(a.runId);
  }
  const runIds = [...new Set(acks.map((a) => a.runId))];
  const duplicatedKeys = [...byKey.values()].filter((s) => s.size > 1).length;
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  let last: LookupAnswer | undefined;
  let error: string | undefined;
  let drainMs: number | null = null;
  for (let round = 0; round < 100_000; round++) {
    try {
      last = await lookupRuns(ep, runIds, 5_000);
      error = undefined;
      if (last.summary.missing === 0 && last.queueDepth === 0) {
        drainMs = Date.now() - t0;
        break;
      }
    } catch (err) {
      error = (err as Error).message;
    }
    if (Date.now() >= deadline || opts.signal?.aborted) break;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  if (last === undefined) {
    return { acknowledged: byKey.size, runs: runIds.length, found: 0, lost: 0, duplicated: duplicatedKeys, duplicatedKeys, duplicatedRuns: 0, drainMs: null, error: error ?? 'no answer', lostRunIds: [] };
  }
  const lostRunIds = runIds.filter((id) => (last.runs[id]?.processed ?? 0) === 0);
  const duplicatedRuns = runIds.filter((id) => (last.runs[id]?.processed ?? 0) > 1).length;
  return {
    acknowledged: byKey.size,
    runs: runIds.length,
    found: runIds.length - lostRunIds.length,
    lost: lostRunIds.length,
    duplicated: duplicatedKeys + duplicatedRuns,
    duplicatedKeys,
    duplicatedRuns,
    drainMs,
    ...(error !== undefined ? { error } : {}),
    lostRunIds: lostRunIds.slice(0, 20),
  };
}
