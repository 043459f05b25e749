// Crash (SIGKILL), drain (SIGTERM) or hang (SIGSTOP) one gateway; a real fleet uses the profile's
// stop/kill/pause commands. Undone by starting (or continuing) it again.
import { z } from 'zod';
import { faultGateway } from '../../faults/actions.ts';
import { defineStep } from './step.ts';

const WHAT = { crash: 'crashed (SIGKILL)', drain: 'drained and stopped (SIGTERM)', hang: 'hung (SIGSTOP)' } as const;

export default defineStep({
  key: 'gateway.fault',
  schema: z.strictObject({ gateway: z.string().min(1), mode: z.enum(['crash', 'drain', 'hang']) }),
  refs: (a) => [{ field: 'gateway', kind: 'gateway', name: a.gateway }],
  async run(a, ctx) {
    await faultGateway(ctx.target, ctx.journal, ctx.id, a.gateway, a.mode);
    ctx.ev(`${a.gateway} ${WHAT[a.mode]}`, 'fault');
  },
});
