// The after-heal redeliveries of a drill: once `gateway` is back in rotation (a bounded wait), a
// share of the keys it acknowledged before step `before` (the fault) is delivered again, each key
// to that gateway directly, to another replica, and through the load balancer — as a provider's
// redelivery long after the fact would reach them. The answers join the drill load's
// acknowledgements, so the webhook accounting finds their runs and classifies every duplicate.
// It only sends (idempotent deliveries): nothing to journal, nothing to undo.
import { Agent } from 'undici';
import { z } from 'zod';
import { DurationMs, LowerName } from '../../config/common.ts';
import { AIMS, aimTargets, otherReplicaPicker, redeliverAimed } from '../../webhooks/aims.ts';
import { DEFAULT_CAPPED, DEFAULT_UNBOUNDED } from '../../webhooks/sender.ts';
import { waitInRotation } from '../../target/rotation.ts';
import { randomLoopback } from '../../util/ids.ts';
import { forEachBounded } from '../../util/pool.ts';
import { isLoopbackHost } from '../../util/ports.ts';
import { sample } from '../../util/sample.ts';
import { acknowledgedBefore } from '../../webhooks/acks.ts';
import { defineStep } from './step.ts';

/** Redeliveries in flight at once: a drill's load is small, and it keeps running meanwhile. */
const IN_FLIGHT = 10;

export default defineStep({
  key: 'webhooks.redeliver',
  schema: z.strictObject({
    /** The gateway whose keys are sent again (the one the fault hit). */
    gateway: z.string().min(1),
    /** Keys it acknowledged before this step (by id) started. */
    before: LowerName,
    share: z.number().min(0).max(1).default(0.5),
    /** Where the other-replica aim may go (default: every other gateway). */
    others: z.array(z.string().min(1)).min(1).optional(),
    aims: z.array(z.enum(AIMS)).min(1).default([...AIMS]),
    /** How long to wait for the gateway back in rotation. */
    timeout: DurationMs.default(60_000),
  }),
  refs: (a) => [{ field: 'gateway', kind: 'gateway' as const, name: a.gateway }, ...(a.others ?? []).map((name) => ({ field: 'others', kind: 'gateway' as const, name }))],
  async run(a, ctx) {
    const load = ctx.load;
    if (load === undefined || load.hook === undefined) throw new Error('webhooks.redeliver needs the drill to run a webhook load (load.webhooks)');
    const mark = ctx.markAt(a.before);
    if (mark === undefined) throw new Error(`webhooks.redeliver: step ${JSON.stringify(a.before)} has not run`);
    const t = ctx.target;
    const back = await waitInRotation(t, a.gateway, a.timeout, ctx.signal);
    ctx.figure(`${ctx.id}.back_in_rotation_ms`, back);
    if (back === null) {
      if (ctx.signal.aborted) return;
      throw new Error(`${a.gateway} not back in rotation within ${a.timeout / 1000} s: its keys were not sent again`);
    }
    const pool = acknowledgedBefore(load.acks, a.gateway, mark);
    const picked = sample(pool, Math.round(a.share * pool.length));
    ctx.ev(`${a.gateway} back in rotation after ${back} ms; ${picked.length} of the ${pool.length} keys it acknowledged before ${a.before} sent again (${a.aims.join(', ')})`, 'phase');
    const dispatcher = new Agent((isLoopbackHost(new URL(t.lbUrl).hostname) ? { localAddress: randomLoopback() } : {}) as ConstructorParameters<typeof Agent>[0]);
    const pickOther = otherReplicaPicker(t.gateways, a.others);
    const hook = load.hook;
    let sent = 0;
    let answered = 0;
    let notAimed = 0;
    try {
      await forEachBounded(picked, IN_FLIGHT, async (k) => {
        if (ctx.signal.aborted) return;
        const { targets, notAimed: missed } = aimTargets(a.aims, k.gateway, t.lbUrl, t.gateways, pickOther);
        notAimed += missed.length;
        const base = { hook, token: ctx.tokens.get('hook'), dispatcher, timeoutMs: 10_000 };
        // A provider's disciplined redelivery: 3 retries with backoff and jitter.
        for (const r of await redeliverAimed(base, k.key, load.deliveryBody(k.key), 'after-heal', targets, t.gateways, 'capped', { capped: DEFAULT_CAPPED, unbounded: DEFAULT_UNBOUNDED }, ctx.signal)) {
          sent += 1;
          if (r.ack === undefined) continue;
          answered += 1;
          load.acks.push(r.ack);
        }
      });
    } finally {
      await dispatcher.close().catch(() => {});
    }
    ctx.figure(`${ctx.id}.keys`, picked.length);
    ctx.figure(`${ctx.id}.sent`, sent);
    ctx.figure(`${ctx.id}.answered`, answered);
    ctx.figure(`${ctx.id}.not_aimed`, notAimed);
    ctx.ev(`${ctx.label}: ${sent} redelivery(ies) sent, ${answered} answered`, 'measure');
  },
});
