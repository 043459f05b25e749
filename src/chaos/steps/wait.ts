// A pause in the method (abortable: Ctrl-C does not wait it out).
import { DurationMs } from '../../config/common.ts';
import { defineStep } from './step.ts';

export default defineStep({
  key: 'wait',
  schema: DurationMs,
  async run(ms, ctx) {
    await ctx.sleep(ms);
  },
});
