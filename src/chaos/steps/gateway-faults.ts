// Set a reference gateway's fault controls (added latency, error rate, disk used, degraded, skill
// hash, drain, idempotency keys in process memory). Undone by putting back the values each field had before.
import { z } from 'zod';
import { gatewayFaults, type FaultPatch } from '../../faults/actions.ts';
import { defineStep, gatewaysIn } from './step.ts';

const GatewaySet = z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]);

export default defineStep({
  key: 'gateway.faults',
  schema: z.strictObject({
    gateways: GatewaySet,
    patch: z.strictObject({
      latencyMs: z.number().int().min(0).max(60_000).optional(),
      errorRate: z.number().min(0).max(1).optional(),
      diskUsedRatio: z.number().min(0).max(1).optional(),
      degraded: z.boolean().optional(),
      skillHash: z.string().min(4).optional(),
      draining: z.boolean().optional(),
      /** Idempotency keys in process memory, as a real gateway holds them (the reference gateway's fault control). */
      keysInMemory: z.boolean().optional(),
    }),
  }),
  refs: (a) => (a.gateways === 'all' ? [] : a.gateways.map((g) => ({ field: 'gateways', kind: 'gateway' as const, name: g }))),
  async run(a, ctx) {
    const gws = gatewaysIn(a.gateways, ctx.target.gateways.map((g) => g.name));
    for (const g of gws) await gatewayFaults(ctx.target, ctx.journal, ctx.id, g, a.patch as FaultPatch);
    ctx.ev(`${gws.join(', ')}: faults ${JSON.stringify(a.patch)}`, 'fault');
  },
});

export { GatewaySet };
