// A load-balancer server's weight (0–256) through HAProxy's runtime API. Undone by the weight it
// had before.
import { z } from 'zod';
import { lbWeight } from '../../faults/actions.ts';
import { defineStep } from './step.ts';

export default defineStep({
  key: 'lb.weight',
  schema: z.strictObject({ server: z.string().min(1), weight: z.number().int().min(0).max(256) }),
  refs: (a) => [{ field: 'server', kind: 'server', name: a.server }],
  async run(a, ctx) {
    await lbWeight(ctx.target, ctx.journal, ctx.id, a.server, a.weight);
    ctx.ev(`haproxy ${a.server} weight → ${a.weight}`, 'fault');
  },
});
