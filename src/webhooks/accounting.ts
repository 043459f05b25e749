// Webhook accounting on the receiving side: every delivery that got a 2xx (key → runId) is looked
// up where the gateways record processed runs, once the queue has drained. Lost = acknowledged but
// never processed; duplicated = one key with more than one runId, or one run processed more than
// once. "Zero lost" is verified, not assumed. Two ledgers:
//   - the reference gateway's `POST /admin/runs/lookup` (runId → times processed, queue depth);
//   - a real OpenClaw gateway's own JSONL log, where every hook run that finished — whatever its
//     outcome — is logged as `hook agent run completed runId=…` (docs/automation/imap.md names this
//     line as the proof of processing). It has no queue depth: that figure is then no data.
import fs from 'node:fs';
import { z } from 'zod';

export const LookupAnswerSchema = z.object({
  runs: z.record(z.string(), z.object({ processed: z.number().int().min(0) })),
  summary: z.object({ asked: z.number(), processed: z.number(), missing: z.number(), duplicated: z.number() }),
  /** null: the ledger cannot tell (a real gateway exposes no queue depth). */
  queueDepth: z.number().int().min(0).nullable(),
  processing: z.number().int().min(0),
  /** Runs by outcome (`ok`, `error`, …) where the ledger records it. */
  outcomes: z.record(z.string(), z.number()).optional(),
});
export type LookupAnswer = z.infer<typeof LookupAnswerSchema>;

const BATCH = 5_000;

export interface AdminRunsEndpoint {
  /** Base URLs that answer /admin/runs/lookup (the load balancer first, then gateways). */
  urls: string[];
  adminToken: string;
}

export interface LogRunsEndpoint {
  /** Each OpenClaw gateway's JSONL log (`logging.file`). */
  logFiles: string[];
}

export type RunsEndpoint = AdminRunsEndpoint | LogRunsEndpoint;

const COMPLETED = /hook agent run completed runId=([A-Za-z0-9_-]+)/;
const STATUS = /"status":"([a-z_]+)"/;

interface LogCursor {
  offset: number;
  /** A partial last line, kept until its newline arrives. */
  rest: string;
  runs: Map<string, { n: number; status: string }>;
}
// Per file, read incrementally: a storm's log grows by megabytes and is polled every 250 ms.
const cursors = new Map<string, LogCursor>();

function scanLog(file: string): LogCursor {
  let c = cursors.get(file);
  if (c === undefined) {
    c = { offset: 0, rest: '', runs: new Map() };
    cursors.set(file, c);
  }
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return c; // not written yet
  }
  if (size < c.offset) {
    // Truncated or rotated: start over.
    c.offset = 0;
    c.rest = '';
    c.runs.clear();
  }
  if (size === c.offset) return c;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - c.offset);
    fs.readSync(fd, buf, 0, buf.length, c.offset);
    c.offset = size;
    const lines = (c.rest + buf.toString('utf8')).split('\n');
    c.rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = COMPLETED.exec(line);
      if (m === null) continue;
      const prev = c.runs.get(m[1]!);
      c.runs.set(m[1]!, { n: (prev?.n ?? 0) + 1, status: STATUS.exec(line)?.[1] ?? 'unknown' });
    }
  } finally {
    fs.closeSync(fd);
  }
  return c;
}

/** Look runs up in the gateways' logs (a run may have been processed by any of them). */
export function lookupRunsInLogs(files: readonly string[], runIds: readonly string[]): LookupAnswer {
  const merged = new Map<string, { n: number; status: string }>();
  for (const f of files) {
    for (const [id, r] of scanLog(f).runs) {
      const prev = merged.get(id);
      merged.set(id, { n: (prev?.n ?? 0) + r.n, status: r.status });
    }
  }
  const runs: LookupAnswer['runs'] = {};
  const outcomes: Record<string, number> = {};
  let processed = 0;
  let duplicated = 0;
  for (const id of runIds) {
    const r = merged.get(id);
    runs[id] = { processed: r?.n ?? 0 };
    if (r === undefined) continue;
    processed += 1;
    if (r.n > 1) duplicated += 1;
    outcomes[r.status] = (outcomes[r.status] ?? 0) + 1;
  }
  return { runs, summary: { asked: runIds.length, processed, missing: runIds.length - processed, duplicated }, queueDepth: null, processing: 0, outcomes };
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
  if ('logFiles' in ep) return lookupRunsInLogs(ep.logFiles, runIds);
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
        if (a.outcomes !== undefined) for (const [k, v] of Object.entries(a.outcomes)) (merged.outcomes ??= {})[k] = (merged.outcomes?.[k] ?? 0) + v;
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
  /** Processed runs by outcome, where the ledger tells (a real gateway without model credentials: `error`). */
  outcomes?: Record<string, number>;
  /** Every acknowledged run never processed (the storm places each in the second it was acknowledged). */
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
      if (last.summary.missing === 0 && (last.queueDepth ?? 0) === 0) {
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
    ...(last.outcomes !== undefined ? { outcomes: last.outcomes } : {}),
    lostRunIds,
  };
}
