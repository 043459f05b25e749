// HTTP answers of a real OpenClaw gateway (npm `openclaw`, its docs/gateway/*.md), checked
// against 2026.9.6. Loose: the gateway adds fields between releases.
import { z } from 'zod';

/** `/readyz`: 200 ready, 503 while starting, draining or degraded, with what fails. */
export const ReadyzBody = z.looseObject({ ready: z.boolean(), failing: z.array(z.string()).optional() });
export const HealthzBody = z.looseObject({ ok: z.boolean(), status: z.string().optional() });
export const ToolsInvokeOk = z.looseObject({ ok: z.literal(true), result: z.unknown() });
export const HookAgentOk = z.looseObject({ ok: z.literal(true), runId: z.string().min(1) });
export const HookWakeOk = z.looseObject({ ok: z.literal(true), mode: z.string().optional(), eventOutcome: z.string().optional() });
