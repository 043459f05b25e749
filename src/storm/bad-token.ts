// The bad-token storm: senders with a wrong hook token, each from its own loopback address, until
// the gateway throttles them (429 after 20 failures in 60 s per client address); then one
// well-behaved client from yet another address, which must not be throttled.
import crypto from 'node:crypto';
import { Agent } from 'undici';
import { randomLoopback } from '../util/ids.ts';
import { nearestRank } from '../util/percentile.ts';
import type { StormRun } from './context.ts';
import { notifierAccount, notifierStats, unaccounted } from './notifier.ts';
import { attempt } from '../webhooks/sender.ts';

export type BadTokenFigures = Record<string, number | null>;

export async function runBadToken(run: StormRun): Promise<BadTokenFigures> {
  const { t, opts, ev, signal } = run;
  const phaseT0 = Date.now();
  const viaGateways = opts.badTokenVia === 'gateways' && t.gateways.length > 0;
  const urlOf = (i: number): string => (viaGateways ? t.gateways[i % t.gateways.length]!.url : t.lbUrl);
  ev(`bad token: ${opts.badTokenSenders} senders with a wrong hook token, each from its own loopback address, ${viaGateways ? `straight to the ${t.gateways.length} gateway(s)` : 'through the load balancer'}`, 'phase');
  const before = await notifierStats(t);
  const addrs = new Set<string>();
  for (let i = 0; i < opts.badTokenSenders * 20 && addrs.size < opts.badTokenSenders; i++) addrs.add(randomLoopback());
  const bad = `bad-${crypto.randomBytes(16).toString('hex')}`;
  const firstAt: number[] = [];
  const firstMs: number[] = [];
  const failures: string[] = [];
  let requests = 0;
  let s401 = 0;
  let s429 = 0;
  let retryAfter: number | null = null;
  await Promise.all(
    [...addrs].map(async (addr, s) => {
      const dispatcher = new Agent((run.loopback ? { localAddress: addr } : {}) as ConstructorParameters<typeof Agent>[0]);
      try {
        for (let n = 0; n < opts.badTokenMaxAttempts; n++) {
          if (signal?.aborted) return;
          const a = await attempt({ url: urlOf(s), hook: 'agent', token: bad, dispatcher, timeoutMs: opts.requestTimeoutMs }, `${run.runId}.bad.${s}`, n, { message: 'bad token', deliver: false });
          requests += 1;
          if (a.status === 401) s401 += 1;
          if (a.fromGateway && (a.status === 429 || a.status >= 500)) failures.push(a.correlationId);
          if (a.status === 429) {
            s429 += 1;
            firstAt.push(n + 1);
            firstMs.push(Date.now() - phaseT0);
            retryAfter = a.retryAfterMs ?? retryAfter;
            return;
          }
        }
      } finally {
        await dispatcher.close().catch(() => {});
      }
    }),
  );
  // A client that did nothing wrong, from yet another address, is not throttled.
  const control = new Agent((run.loopback ? { localAddress: randomLoopback() } : {}) as ConstructorParameters<typeof Agent>[0]);
  let controlOk = 0;
  try {
    const c = await attempt({ url: urlOf(0), hook: 'agent', token: run.hookToken, dispatcher: control, timeoutMs: opts.requestTimeoutMs }, `${run.runId}.control`, 0, { message: 'control', deliver: false });
    controlOk = c.status === 200 ? 1 : 0;
  } finally {
    await control.close().catch(() => {});
  }
  const n = await notifierAccount(t, before, failures, ev);
  const figs = {
    senders: addrs.size,
    requests,
    status_401: s401,
    status_429: s429,
    throttled_senders: firstAt.length,
    first_429_attempt_min: firstAt.length ? Math.min(...firstAt) : null,
    first_429_attempt_max: firstAt.length ? Math.max(...firstAt) : null,
    first_429_after_ms_p50: nearestRank(firstMs, 50),
    first_429_after_ms_max: firstMs.length ? Math.max(...firstMs) : null,
    retry_after_s: retryAfter === null ? null : retryAfter / 1000,
    control_client_ok: controlOk,
    failures_from_gateways: failures.length,
    failures_in_digests: n?.matched ?? null,
    fallback_events: n?.fallback ?? null,
    failures_unaccounted: unaccounted(failures.length, n),
  };
  ev(`bad token: ${figs.throttled_senders}/${figs.senders} senders throttled, first 429 at attempt ${figs.first_429_attempt_min ?? '--'}–${figs.first_429_attempt_max ?? '--'} after ${figs.first_429_after_ms_p50 ?? '--'} ms (p50); control client ${controlOk ? 'not throttled' : 'THROTTLED'}`, 'measure');
  return figs;
}
