// Set the simulated disk of gateways at a watermark of their own tier (below-yellow, yellow, red)
// or at a ratio. Undone by the ratio each had before.
import { z } from 'zod';
import { gatewayFaults } from '../../faults/actions.ts';
import { ratioAt } from '../watermark.ts';
import { readDisk } from './disk.ts';
import { GatewaySet } from './gateway-faults.ts';
import { defineStep, gatewaysIn } from './step.ts';

export default defineStep({
  key: 'disk.fill',
  schema: z.strictObject({ gateways: GatewaySet, level: z.union([z.enum(['below-yellow', 'yellow', 'red']), z.number().min(0).max(1)]) }),
  refs: (a) => (a.gateways === 'all' ? [] : a.gateways.map((g) => ({ field: 'gateways', kind: 'gateway' as const, name: g }))),
  async run(a, ctx) {
    const set: string[] = [];
    for (const g of gatewaysIn(a.gateways, ctx.target.gateways.map((x) => x.name))) {
      const disk = await readDisk(ctx.target, g);
      const ratio = ratioAt(a.level, disk);
      await gatewayFaults(ctx.target, ctx.journal, ctx.id, g, { diskUsedRatio: ratio });
      set.push(`${g} ${(ratio * 100).toFixed(0)}% (yellow ${(disk.yellow * 100).toFixed(0)}%, red ${(disk.red * 100).toFixed(0)}%)`);
    }
    ctx.ev(`disk used: ${set.join(', ')}`, 'fault');
  },
});
