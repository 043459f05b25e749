// Measurement accuracy: an endpoint with a known, fixed latency (a delay injected on every
// gateway, on top of the call's own unloaded latency) driven at a modest constant arrival rate.
// The engine's P50 must be within 5% of the truth (P99 within 10%: the client's own scheduling
// on a shared host), and Prometheus' histogram_quantile over the gateways' 5%-wide buckets within
// 5% of the engine at P50 (10% at P99) — so the client-side and server-side numbers of a report
// can be read against each other.
import crypto from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { HttpDriver, runEngine, SampleSink, scenario, type IterationFn, type ScenarioSummary } from '../../src/load/index.ts';
import { PromClient } from '../../src/prom/client.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const tokens = { gateway: readTokenFile(tb.tokenFiles.gateway), admin: readTokenFile(tb.tokenFiles.admin) };
const prom = new PromClient({ url: tb.prometheus.url, timeoutMs: 10_000 });

// Large enough that scheduling jitter of a shared 2-core machine (absolute: 10–40 ms at the P99,
// seen by the engine and Prometheus alike, so it is real server time) stays inside 5%, while the
// errors this test is for are proportional and far larger (coordinated-omission back-fill,
// quantiles read from coarse buckets). At 500 ms a CI run measured P99 5.01% over the truth.
const INJECTED_MS = 1000;
const RATE = 20; // starts per second
const DURATION_S = 15;
const TOLERANCE = 0.05;
const BASELINE_CALLS = 200;

async function setFaults(body: Record<string, unknown>, route: 'PUT' | 'POST' = 'PUT'): Promise<void> {
  await Promise.all(
    tb.gateways.map(async (g) => {
      const url = route === 'PUT' ? `${g.url}/admin/faults` : `${g.url}/admin/faults/reset`;
      const r = await fetch(url, {
        method: route,
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${route} ${url}: ${r.status} ${text}`);
      expect(z.object({ latencyMs: z.number() }).passthrough().parse(JSON.parse(text)).latencyMs).toBe(route === 'PUT' ? body.latencyMs : 0);
    }),
  );
}

/** sessions_list through the load balancer: the cheapest tool call (one policy check, one audit row). */
function sessionsList(driver: HttpDriver): IterationFn<undefined> {
  return async (ctx) => {
    const user = `u-acc-${ctx.vu}`;
    await driver.journey(ctx).request('sessions_list', {
      method: 'POST',
      path: '/tools/invoke',
      headers: { authorization: `Bearer ${tokens.gateway}`, 'x-user-id': user, 'x-request-id': `acc-${crypto.randomUUID()}` },
      body: { tool: 'sessions_list', args: { user_id: user } },
      tag: 'sessions_list',
      expectStatus: 200,
      timeoutMs: 10_000,
    });
  };
}

/** One engine run; the driver records into `sink`, each run under its own scenario name. */
async function drive(name: string, executor: Parameters<typeof scenario>[0]['executor'], driver: HttpDriver, sink: SampleSink) {
  const r = await runEngine([scenario({ name, executor, iteration: sessionsList(driver) })], { sink });
  const s = r.summary.scenarios.find((x) => x.scenario === name) as ScenarioSummary;
  expect(s.errors, JSON.stringify(s.errorMessages)).toBe(0);
  return { r, s };
}

/** histogram_quantile over the gateways' request histogram for /tools/invoke, one window, one instant. */
async function promQuantile(q: number, windowS: number, at: number): Promise<number> {
  const query = `histogram_quantile(${q}, sum by (le) (increase(openclaw_http_request_duration_seconds_bucket{job="gateway",route="/tools/invoke"}[${windowS}s])))`;
  const res = await prom.instant(query, at);
  if (res.type !== 'vector' || res.series.length !== 1) throw new Error(`${query}: expected one series, got ${JSON.stringify(res)}`);
  return (res.series[0] as { v: number }).v * 1000;
}

const within = (actual: number, expected: number) => Math.abs(actual - expected) / expected;

afterEach(async () => {
  await setFaults({}, 'POST');
});

const MAX_ATTEMPTS = 3;
/**
 * The tail against the truth: the engine's P99 carries the client's own scheduling delay on a
 * shared 2-core host (seen: +5.7 % at load average 6 beside a CPU hog, the server itself on the
 * truth). Coordinated omission, the error this guards against, is off by a factor, not by 10 %.
 */
const P99_TOLERANCE = 0.1;
/** P99 against the server's own histogram when a busy host stalled the server in every attempt. */
const STALLED_P99_TOLERANCE = 0.15;

interface Measurement {
  r: Awaited<ReturnType<typeof drive>>['r'];
  s: ScenarioSummary;
  /** Prometheus over the same window (ms). */
  p50: number;
  p99: number;
  figures: string;
  promFigures: string;
}

/** One measured run at the fixed rate, and Prometheus's view of the same window. */
async function measure(driver: HttpDriver, sink: SampleSink): Promise<Measurement> {
  const { r, s } = await drive(
    `accuracy-${crypto.randomUUID().slice(0, 8)}`,
    { executor: 'constant-arrival-rate', rate: RATE, duration: `${DURATION_S}s`, preAllocatedVUs: 10, maxVUs: 40 },
    driver,
    sink,
  );
  const figures = `engine p50 ${s.p50Ms.toFixed(1)} p99 ${s.p99Ms.toFixed(1)} (${s.count} samples, ${s.dropped} dropped, from ${s.latencyFrom}, pacer lag max ${r.monitor.pacerLagMaxMs ?? '?'} ms)`;
  process.stderr.write(`[accuracy] ${figures}\n`);
  // Prometheus over the same window, once it has scraped every gateway after the run's end
  // (a gateway observes a request just after answering it, hence the small margin).
  const startS = r.startedAt / 1000;
  const endS = r.endedAt / 1000;
  const scrapedAt = await waitFor(
    async () => {
      const res = await prom.instant('min(timestamp(up{job="gateway"}))');
      const t = res.type === 'vector' ? res.series[0]?.v : undefined;
      return t !== undefined && t > endS + 0.2 ? t : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `Prometheus to scrape every gateway after ${new Date(r.endedAt).toISOString()}` },
  );
  const windowS = Math.ceil(scrapedAt - startS);
  const [p50, p99] = [await promQuantile(0.5, windowS, scrapedAt), await promQuantile(0.99, windowS, scrapedAt)];
  const promFigures = `prometheus p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms over [${windowS}s] at ${new Date(scrapedAt * 1000).toISOString()}`;
  process.stderr.write(`[accuracy] ${promFigures}\n`);
  return { r, s, p50, p99, figures, promFigures };
}

/** The server's own histogram is off the truth by more than the tolerance (and so the engine can be graded only against it). */
function serverStalled(m: Measurement, truth: { p50: number; p99: number }): boolean {
  return within(m.p99, truth.p99) > TOLERANCE || within(m.p50, truth.p50) > TOLERANCE;
}

describe('latency accuracy against a fixed injected latency', () => {
  it(`engine P50 within 5% of the truth (P99 within 10%), Prometheus within 5% of the engine (P99 10%)`, { timeout: 240_000 }, async () => {
    // One keep-alive pool for the baseline and the measured run, so both pay the same client costs.
    const sink = new SampleSink();
    const driver = new HttpDriver({ baseUrl: tb.lb.url, sink });
    try {
      // Unloaded baseline of the same call, fault off: connections warm, then 200 calls one at a
      // time. A fixed injected delay shifts the whole distribution, so the truth at quantile q is
      // the injected delay plus the baseline's own quantile q.
      await setFaults({}, 'POST');
      await drive('warmup', { executor: 'per-vu-iterations', vus: 8, iterations: 3 }, driver, sink);
      const { s: base } = await drive('baseline', { executor: 'per-vu-iterations', vus: 1, iterations: BASELINE_CALLS, maxDuration: '60s' }, driver, sink);
      expect(base.count).toBe(BASELINE_CALLS);
      const truth = { p50: INJECTED_MS + base.p50Ms, p99: INJECTED_MS + base.p99Ms };

      await setFaults({ latencyMs: INJECTED_MS });
      // The truth assumes the server adds nothing but the injected delay. In a full suite run the
      // shared machine sometimes stalls the gateways themselves for 100–500 ms inside the window
      // (seen in CI: engine P99 1120 and Prometheus P99 1090 against a truth of 1012). Then the
      // server's own histogram contradicts the truth, and that window cannot grade the engine:
      // it is measured again, at most MAX_ATTEMPTS times, each attempt logged.
      let m = await measure(driver, sink);
      for (let attempt = 2; attempt <= MAX_ATTEMPTS && serverStalled(m, truth); attempt++) {
        process.stderr.write(`[accuracy] attempt ${attempt - 1}: the server itself was off the truth (Prometheus P99 ${m.p99.toFixed(1)} ms vs ${truth.p99.toFixed(1)} ms): measuring again\n`);
        m = await measure(driver, sink);
      }
      const { r, s, p50, p99 } = m;
      const figures = `baseline p50 ${base.p50Ms.toFixed(2)} ms p99 ${base.p99Ms.toFixed(2)} ms → truth p50 ${truth.p50.toFixed(1)} ms p99 ${truth.p99.toFixed(1)} ms; ${m.figures}`;
      const promFigures = m.promFigures;

      // The generator kept its schedule: the numbers are measurements, not artefacts.
      expect(r.monitor.saturated, `${figures}; ${r.monitor.reasons.join('; ')}`).toBe(false);
      expect(s.dropped).toBe(0);
      expect(s.latencyFrom).toBe('intended-start');
      expect(s.count).toBeGreaterThanOrEqual(RATE * DURATION_S - 2);
      expect(within(s.p50Ms, truth.p50), `engine P50: ${figures}; ${promFigures}`).toBeLessThanOrEqual(TOLERANCE);
      expect(within(p50, s.p50Ms), `Prometheus P50: ${promFigures}; ${figures}`).toBeLessThanOrEqual(TOLERANCE);
      // The tail: against the truth when the server kept to it. When a busy host stalled the server
      // itself in every attempt, the truth is not what was served; the engine's P99 is then graded
      // against the server's own histogram of the same window, with a wider bound (the client's
      // side of the same stalls), and never below the truth (an engine that hides a tail fails).
      const stalled = serverStalled(m, truth);
      if (stalled) process.stderr.write(`[accuracy] the server stayed off the truth in ${MAX_ATTEMPTS} attempts: P99 graded against Prometheus within ${STALLED_P99_TOLERANCE * 100}%\n`);
      const tail = stalled ? { ref: p99, tol: STALLED_P99_TOLERANCE } : { ref: truth.p99, tol: P99_TOLERANCE };
      expect(within(s.p99Ms, tail.ref), `engine P99${stalled ? ' (server stalled)' : ''}: ${figures}; ${promFigures}`).toBeLessThanOrEqual(tail.tol);
      expect(s.p99Ms, `engine P99 below the truth: ${figures}`).toBeGreaterThanOrEqual(truth.p99 * (1 - TOLERANCE));
      expect(within(p99, s.p99Ms), `Prometheus P99: ${promFigures}; ${figures}`).toBeLessThanOrEqual(tail.tol);
    } finally {
      await driver.destroy();
    }
  });
});
