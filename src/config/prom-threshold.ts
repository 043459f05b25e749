// A PromQL threshold as scenario files write it: a named query, a comparison, and how it is judged
// over the run (one instant query, or a range query whose windows must fail consecutively).
import { z } from 'zod';
import { CompareOpSchema, DurationSeconds, PromQLSchema } from './common.ts';

export const PromThresholdSchema = z
  .strictObject({
    name: z.string().min(1),
    query: PromQLSchema,
    op: CompareOpSchema,
    value: z.number(),
    mode: z.enum(['instant', 'range']).default('instant'),
    window: z.strictObject({ step: DurationSeconds, consecutive: z.number().int().min(1).default(1) }).optional(),
    regression: z.strictObject({ maxIncreasePct: z.number().min(0) }).optional(),
    unit: z.string().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.mode === 'range' && t.window === undefined) {
      ctx.addIssue({ code: 'custom', path: ['window'], message: 'range mode needs window: {step, consecutive}' });
    }
  });

export type PromThreshold = z.output<typeof PromThresholdSchema>;
export type PromThresholdInput = z.input<typeof PromThresholdSchema>;
