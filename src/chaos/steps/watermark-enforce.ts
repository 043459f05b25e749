// Read every gateway's composite probe, apply the disk watermark policy (plan §4) and act on it:
// a yellow gate blocks scale-up and broadcasts one digest through the notifier; a red gate scales
// to the minimum and drains the canary in the load balancer (journalled). The policy's signals
// become figures `<step id>.<figure>`, which the report pivots into one table.
import { z } from 'zod';
import { adminCall, lbState } from '../../faults/actions.ts';
import { showServersState } from '../../lb/runtime.ts';
import { gatewayOf, tokenOf } from '../../target/target.ts';
import { watermarkPolicy, type GatewayDisk, type WatermarkSignals } from '../watermark.ts';
import { readDisk } from './disk.ts';
import { defineStep, type StepContext } from './step.ts';

const DigestAnswer = z.looseObject({
  digest: z
    .looseObject({
      id: z.number().optional(),
      published: z.boolean().optional(),
      statuses: z.array(z.looseObject({ status: z.unknown(), count: z.number() })).optional(),
      summary: z.string().optional(),
    })
    .nullable()
    .optional(),
});

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** One digest carrying every gateway past a gate; 1 when the notifier published it with all of them. */
async function broadcastDigest(ctx: StepContext, disks: readonly GatewayDisk[], sig: WatermarkSignals): Promise<number> {
  const t = ctx.target;
  if (t.notifierUrl === undefined) {
    ctx.ev('no notifier on this target: digest not broadcast', 'measure');
    return 0;
  }
  const crossing = disks.filter((d) => d.ratio >= d.yellow || !d.diskOk);
  const isRed = (d: GatewayDisk) => d.ratio >= d.red || (sig.red.includes(d.gateway));
  await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'POST', '/events', {
    events: crossing.map((d) => ({
      status: isRed(d) ? 'disk-red' : 'disk-yellow',
      correlationId: `${ctx.runId}.${ctx.id}.${d.gateway}`,
      az: d.az,
      gateway: d.gateway,
      retryCount: 0,
      detail: `disk ${Number.isNaN(d.ratio) ? 'unknown' : pct(d.ratio)} used, ${isRed(d) ? 'red' : 'yellow'} gate ${pct(isRed(d) ? d.red : d.yellow)}: ${sig.scaleToMin ? 'scale to minimum, canary drained' : 'scale-up blocked, stable lane only'}`,
    })),
  });
  const d = DigestAnswer.parse(await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'POST', '/flush')).digest;
  const carried = (d?.statuses ?? []).filter((x) => x.status === 'disk-red' || x.status === 'disk-yellow').reduce((a, x) => a + x.count, 0);
  const published = d?.published === true && carried >= crossing.length ? 1 : 0;
  ctx.ev(published ? `digest ${d?.id} published: ${d?.summary ?? ''}` : `digest not published (${JSON.stringify(d ?? null).slice(0, 120)})`, 'measure');
  return published;
}

export default defineStep({
  key: 'watermark.enforce',
  schema: z.strictObject({ canary: z.string().min(1) }),
  refs: (a) => [{ field: 'canary', kind: 'gateway', name: a.canary }],
  async run(a, ctx) {
    const t = ctx.target;
    const disks = await Promise.all(t.gateways.map((g) => readDisk(t, g.name)));
    const sig = watermarkPolicy(disks);
    const f = (name: string, v: number | string) => ctx.figure(`${ctx.id}.${name}`, v);
    f('level', sig.level);
    for (const d of disks) ctx.figure(`${ctx.id}.disk_used_${d.gateway}`, Number.isNaN(d.ratio) ? null : d.ratio);
    for (const d of disks) f(`yellow_gate_${d.gateway}`, d.yellow);
    f('disk_ok_false', disks.filter((d) => !d.diskOk).length);
    f('disk_ok_true', disks.filter((d) => d.diskOk).length);
    f('gateways', disks.length);
    f('scale_up_blocked', sig.blockScaleUp ? 1 : 0);
    f('stable_lane_only', sig.stableLaneOnly ? 1 : 0);
    f('scale_to_min', sig.scaleToMin ? 1 : 0);
    f('probe_inconsistent', sig.inconsistent.length);
    ctx.ev(
      `watermark ${sig.level}: ${sig.reasons.join('; ') || 'every disk below its yellow gate'}` +
        `${sig.blockScaleUp ? '; scale-up blocked, stable lane only' : ''}${sig.scaleToMin ? '; scale to minimum replicas' : ''}`,
      'measure',
    );
    if (sig.reasons.length > 0) ctx.figure(`${ctx.id}.why`, sig.reasons.join('; '));
    f('digest_published', sig.broadcastDigest ? await broadcastDigest(ctx, disks, sig) : 0);
    if (sig.drainCanary) {
      const server = gatewayOf(t, a.canary).server;
      await lbState(t, ctx.journal, ctx.id, server, 'drain');
      const st = t.haproxy ? (await showServersState(t.haproxy)).find((x) => x.name === server) : undefined;
      f('canary_drained', st?.adminState === 'drain' ? 1 : 0);
      ctx.ev(`canary ${a.canary} drained in the load balancer (${st?.status ?? 'state unknown'})`, 'fault');
    } else f('canary_drained', 0);
  },
});
