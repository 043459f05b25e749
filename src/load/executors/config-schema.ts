// Pieces of the executor config schemas every executor shares (VU bounds, start/stop fields).
import { z } from 'zod';
import { durationMs } from '../../util/duration.ts';

/** One line per problem: `vus: Too small: expected number to be >=1; stages.0.target: …`. */
export function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Upper bound on VUs in any executor: every loop here is bounded in count. */
export const MAX_VUS = 100_000;

/** The open-model executors' VU pool: maxVUs not below preAllocatedVUs, and at least one VU. */
export function checkVuPool(c: { preAllocatedVUs: number; maxVUs?: number | undefined }, ctx: z.RefinementCtx): void {
  if (c.maxVUs !== undefined && c.maxVUs < c.preAllocatedVUs) {
    ctx.addIssue({ code: 'custom', message: 'maxVUs must be >= preAllocatedVUs', path: ['maxVUs'] });
  }
  if (Math.max(c.maxVUs ?? 0, c.preAllocatedVUs) < 1) {
    ctx.addIssue({ code: 'custom', message: 'need at least one VU: set preAllocatedVUs or maxVUs >= 1', path: ['preAllocatedVUs'] });
  }
}

export const vusField = z.number().int().min(1).max(MAX_VUS);
/** k6 defaults: no start delay, 30 s for in-flight iterations after the end. */
export const commonFields = {
  startTime: durationMs.default(0),
  gracefulStop: durationMs.default(30_000),
};
