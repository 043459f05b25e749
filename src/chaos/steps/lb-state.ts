// A load-balancer server's administrative state (ready, drain, maint) through HAProxy's runtime
// API. Undone by the state it had before.
import { z } from 'zod';
import { lbState } from '../../faults/actions.ts';
import { defineStep } from './step.ts';

export default defineStep({
  key: 'lb.state',
  schema: z.strictObject({ server: z.string().min(1), state: z.enum(['ready', 'drain', 'maint']) }),
  refs: (a) => [{ field: 'server', kind: 'server', name: a.server }],
  async run(a, ctx) {
    await lbState(ctx.target, ctx.journal, ctx.id, a.server, a.state);
    ctx.ev(`haproxy ${a.server} → ${a.state}`, 'fault');
  },
});
