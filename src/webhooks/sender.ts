// Webhook senders as providers behave, two retry disciplines side by side:
//   capped     — at most 3 retries, exponential backoff with full jitter (AWS's "full jitter":
//                random(0, min(cap, base·2^n))), never sooner than a 429/503 `Retry-After` says:
//                the jitter goes on top of Retry-After, or every sender told "1 s" would come
//                back in the same millisecond — a herd again;
//   unbounded  — retries at once, no jitter, until it succeeds or a deadline passes.
// Every attempt carries the delivery's Idempotency-Key, a correlation id of its own and its retry
// count, so the gateway and the notifier can tell them apart.
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { sleep } from '../util/sleep.ts';

export type Discipline = 'capped' | 'unbounded';
export const DISCIPLINES: readonly Discipline[] = ['capped', 'unbounded'];

export interface CappedPolicy {
  retries: number;
  baseMs: number;
  capMs: number;
}
export interface UnboundedPolicy {
  deadlineMs: number;
  /** A bound on attempts per delivery all the same (every loop is bounded). */
  maxAttempts: number;
}

export const DEFAULT_CAPPED: CappedPolicy = { retries: 3, baseMs: 250, capMs: 10_000 };
export const DEFAULT_UNBOUNDED: UnboundedPolicy = { deadlineMs: 30_000, maxAttempts: 20_000 };

/** Full jitter: uniform in [0, min(cap, base·2^attempt)). `attempt` counts retries from 0. */
export function fullJitter(attempt: number, p: Pick<CappedPolicy, 'baseMs' | 'capMs'>, rand: () => number = Math.random): number {
  const ceiling = Math.min(p.capMs, p.baseMs * 2 ** attempt);
  return Math.floor(rand() * ceiling);
}

/** Retry-After in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The capped discipline's wait before retry number `attempt` (0-based): Retry-After, plus jitter. */
export function cappedDelay(attempt: number, retryAfterMs: number | undefined, p: CappedPolicy, rand: () => number = Math.random): number {
  return (retryAfterMs ?? 0) + fullJitter(attempt, p, rand);
}

/** What an answer means for the sender. */
export function classify(status: number): 'ack' | 'retry' | 'permanent' {
  if (status >= 200 && status < 300) return 'ack';
  if (status === 0 || status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

export interface Attempt {
  status: number;
  /** The answer came from the gateway (its JSON shape), not from the load balancer or the network. */
  fromGateway: boolean;
  correlationId: string;
  retryAfterMs?: number;
  runId?: string;
  /** The gateway that answered, where the load balancer says (`X-Served-By`). */
  server?: string;
  /** The gateway process that answered, where the gateway says (`X-Gateway-Instance`). */
  instance?: string;
  /** When the request went out (ms since the epoch): which process can have served it. */
  sentAt: number;
  /** When its answer (or error) came back. */
  at: number;
  error?: string;
}

export interface DeliveryOutcome {
  key: string;
  acked: boolean;
  runId?: string;
  /** The gateway that acknowledged it, where the load balancer says. */
  server?: string;
  /** The acknowledging attempt itself (its process, when it went out and came back). */
  ack?: Attempt;
  attempts: Attempt[];
  /** From the first attempt to the acknowledgement. */
  ackMs?: number;
  gaveUp?: 'retries' | 'deadline' | 'permanent' | 'aborted';
}

export interface SendTarget {
  url: string;
  hook: 'agent' | 'wake';
  token: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
}

export async function attempt(t: SendTarget, key: string, n: number, body: Record<string, unknown>): Promise<Attempt> {
  const correlationId = `${key}#${n}`;
  const sentAt = Date.now();
  try {
    const r = await request(`${t.url}/hooks/${t.hook}`, {
      method: 'POST',
      dispatcher: t.dispatcher,
      headers: {
        authorization: `Bearer ${t.token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
        'x-correlation-id': correlationId,
        'x-retry-count': String(n),
      },
      body: JSON.stringify(body),
      headersTimeout: t.timeoutMs,
      bodyTimeout: t.timeoutMs,
    });
    const text = await r.body.text();
    const json = String(r.headers['content-type'] ?? '').includes('json');
    let runId: string | undefined;
    if (json && r.statusCode >= 200 && r.statusCode < 300) {
      try {
        const b = JSON.parse(text) as { ok?: unknown; runId?: unknown };
        if (b.ok === true && typeof b.runId === 'string') runId = b.runId;
      } catch {
        // an unreadable 2xx is not an acknowledgement
      }
    }
    const ra = parseRetryAfter(r.headers['retry-after']);
    const status = r.statusCode >= 200 && r.statusCode < 300 && runId === undefined ? 502 : r.statusCode;
    const server = firstHeader(r.headers['x-served-by']);
    const instance = firstHeader(r.headers['x-gateway-instance']);
    return {
      status,
      fromGateway: json,
      correlationId,
      sentAt,
      at: Date.now(),
      ...(ra !== undefined ? { retryAfterMs: ra } : {}),
      ...(runId !== undefined ? { runId } : {}),
      ...(server !== undefined ? { server } : {}),
      ...(instance !== undefined ? { instance } : {}),
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { status: 0, fromGateway: false, correlationId, sentAt, at: Date.now(), error: e.code ?? e.message };
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Deliver one event under a discipline. */
export async function deliver(
  t: SendTarget,
  key: string,
  body: Record<string, unknown>,
  discipline: Discipline,
  policy: { capped: CappedPolicy; unbounded: UnboundedPolicy },
  signal?: AbortSignal,
): Promise<DeliveryOutcome> {
  const attempts: Attempt[] = [];
  const t0 = Date.now();
  const maxAttempts = discipline === 'capped' ? policy.capped.retries + 1 : policy.unbounded.maxAttempts;
  for (let n = 0; n < maxAttempts; n++) {
    if (signal?.aborted) return { key, acked: false, attempts, gaveUp: 'aborted' };
    const a = await attempt(t, key, n, body);
    attempts.push(a);
    const c = classify(a.status);
    if (c === 'ack') return { key, acked: true, runId: a.runId!, ...(a.server !== undefined ? { server: a.server } : {}), ack: a, attempts, ackMs: Date.now() - t0 };
    if (c === 'permanent') return { key, acked: false, attempts, gaveUp: 'permanent' };
    if (discipline === 'capped') {
      if (n + 1 >= maxAttempts) break;
      if (!(await sleep(cappedDelay(n, a.retryAfterMs, policy.capped), signal))) return { key, acked: false, attempts, gaveUp: 'aborted' };
    } else {
      if (Date.now() - t0 >= policy.unbounded.deadlineMs) return { key, acked: false, attempts, gaveUp: 'deadline' };
      // At once: yield to the event loop only, no backoff, no jitter.
      await yieldNow();
    }
  }
  return { key, acked: false, attempts, gaveUp: discipline === 'capped' ? 'retries' : 'deadline' };
}
