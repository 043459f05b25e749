import autocannon from 'autocannon';
import { statusClassOf, type SampleSink } from '../samples.ts';
import { registerHeaderSecrets } from './http.ts';

export interface BurstOptions {
  /** Full URL of the endpoint (origin + path). */
  url: string;
  scenario: string;
  step: string;
  /** The `method` tag; default the HTTP method. */
  tag?: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Never logged: autocannon runs with debug off and nothing here prints headers. */
  headers?: Record<string, string>;
  /** Objects are sent as JSON. */
  body?: string | Record<string, unknown> | unknown[];
  connections: number;
  /** Fixed shape: exactly this many requests … */
  amount?: number;
  /** … or for this long (seconds). One of amount/durationS is required. */
  durationS?: number;
  overallRate?: number;
  connectionRate?: number;
  pipelining?: number;
  timeoutS?: number;
  /** Statuses that count as success; default any status below 400. */
  expectStatus?: number | readonly number[];
  signal?: AbortSignal;
}

export interface BurstResult {
  /** Samples recorded into the sink (responses + request errors). */
  requests: number;
  responses: number;
  errors: number;
  timeouts: number;
  startedAt: number;
  endedAt: number;
  /** What autocannon printed about itself, for cross-checking only; the sink holds our figures. */
  autocannonReport: {
    latencyP50Ms: number;
    latencyP99Ms: number;
    latencyMaxMs: number;
    requestsTotal: number;
    non2xx: number;
    note: string;
  };
}

const AUTOCANNON_NOTE =
  "autocannon's own histogram: whole-ms values, 2xx only; kept for cross-checking. The sink recorded every response's latency itself from autocannon's per-response event (time from the request write on its connection, so a closed-model figure), with ignoreCoordinatedOmission set so no back-filled samples exist.";

/**
 * A fixed-shape burst through autocannon. Every response is recorded into our sink from the
 * per-response event; autocannon's coordinated-omission "correction" (which invents 1 ms-spaced
 * samples, plan §11) is switched off whenever a rate is set. Without a rate autocannon applies no
 * correction at all and refuses the flag, so it is passed only with a rate.
 */
export async function runBurst(sink: SampleSink, opts: BurstOptions): Promise<BurstResult> {
  if (opts.amount === undefined && opts.durationS === undefined) throw new Error('burst: set amount or durationS');
  if (opts.signal?.aborted) throw new Error('burst: aborted before start');
  const method = opts.method ?? 'GET';
  const tag = opts.tag ?? method;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  registerHeaderSecrets(headers);
  let body: string | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string') body = opts.body;
    else {
      body = JSON.stringify(opts.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  const rated = opts.overallRate !== undefined || opts.connectionRate !== undefined;
  const timeoutS = opts.timeoutS ?? 10;
  const expect = opts.expectStatus;
  const isOk = (s: number): boolean =>
    expect === undefined ? s >= 100 && s < 400 : typeof expect === 'number' ? s === expect : expect.includes(s);
  const counts = { responses: 0, errors: 0, timeouts: 0 };
  const startedAt = Date.now();

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        connections: opts.connections,
        pipelining: opts.pipelining ?? 1,
        timeout: timeoutS,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 1 }),
        ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
        ...(opts.connectionRate !== undefined ? { connectionRate: opts.connectionRate } : {}),
        ...(rated ? { ignoreCoordinatedOmission: true } : {}),
        debug: false,
        skipAggregateResult: false,
      },
      (err: unknown, res: autocannon.Result) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(res);
      },
    );
    const onAbort = (): void => instance.stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      counts.responses += 1;
      sink.record({
        tags: { scenario: opts.scenario, step: opts.step, method: tag, status_class: statusClassOf(statusCode) },
        latencyMs: responseTime,
        ok: isOk(statusCode),
      });
    });
    instance.on('reqError', (err: unknown) => {
      counts.errors += 1;
      const timedOut = err instanceof Error && /timed out/i.test(err.message);
      if (timedOut) counts.timeouts += 1;
      sink.record({
        tags: { scenario: opts.scenario, step: opts.step, method: tag, status_class: 'error' },
        // autocannon reports no timing for connection errors; a timeout took the whole timeout.
        latencyMs: timedOut ? timeoutS * 1000 : NaN,
        ok: false,
      });
    });
  });

  return {
    requests: counts.responses + counts.errors,
    ...counts,
    startedAt,
    endedAt: Date.now(),
    autocannonReport: {
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      latencyMaxMs: result.latency.max,
      requestsTotal: result.requests.total,
      non2xx: result.non2xx,
      note: AUTOCANNON_NOTE,
    },
  };
}
