// Undo, now and in the drill's own order, what earlier steps did to one gateway (start it again
// after a fault): the recovery moment a drill times, instead of waiting for the final rollback.
import { z } from 'zod';
import { applyUndo, undoTargetsGateway } from '../../faults/actions.ts';
import { defineStep } from './step.ts';

export default defineStep({
  key: 'gateway.restore',
  schema: z.strictObject({ gateway: z.string().min(1) }),
  refs: (a) => [{ field: 'gateway', kind: 'gateway', name: a.gateway }],
  async run(a, ctx) {
    const mine = ctx.journal.pending().filter((e) => undoTargetsGateway(e.undo, a.gateway));
    if (mine.length === 0) ctx.ev(`${a.gateway}: nothing to restore`, 'recover');
    for (const e of mine) {
      const what = await applyUndo(ctx.target, e.undo);
      ctx.journal.mark(e.id, 'rolled-back');
      ctx.ev(`${ctx.label}: ${what}`, 'recover');
    }
  },
});
