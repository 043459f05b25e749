// The notifier's side of a storm: the failures senders saw from gateways (429, 5xx, by
// correlation id) against what the notifier published in its digests plus what its fallback
// counter took when publishing failed. Read before and after a phase; none of it exists on a
// target without a notifier (real gateways send no failure events): then undefined, no data.
import { z } from 'zod';
import { adminCall } from '../faults/actions.ts';
import { tokenOf, type ChaosTarget } from '../target/target.ts';
import { redact } from '../util/redact.ts';
import { sleep } from '../util/sleep.ts';

const StatsSchema = z.object({
  lastDigestId: z.number(),
  received: z.number(),
  fallback: z.object({ events: z.number() }),
});
export type NotifierStats = z.infer<typeof StatsSchema>;

const DigestsSchema = z.object({
  digests: z.array(z.object({ id: z.number(), published: z.boolean(), statuses: z.array(z.object({ status: z.union([z.number(), z.string()]), count: z.number(), correlationIds: z.array(z.string()) })) })),
});

export interface NotifierAccount {
  /** Failures found in a published digest. */
  matched: number;
  /** Events the fallback counter took meanwhile. */
  fallback: number;
  digests: number;
}

/** The notifier's counters now; undefined when the target has none or it does not answer. */
export async function notifierStats(t: ChaosTarget): Promise<NotifierStats | undefined> {
  if (t.notifierUrl === undefined) return undefined;
  try {
    return StatsSchema.parse(await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'GET', '/stats'));
  } catch {
    return undefined;
  }
}

/** Close the window and count which of `ids` reached a published digest, and what went to the fallback counter since `before`. */
export async function notifierAccount(t: ChaosTarget, before: NotifierStats | undefined, ids: string[], ev: (label: string, kind?: string) => void): Promise<NotifierAccount | undefined> {
  const url = t.notifierUrl;
  if (url === undefined || before === undefined) return undefined;
  try {
    // Fire-and-forget events from the gateways land within moments; then close the window.
    await sleep(500);
    await adminCall(url, tokenOf(t, 'admin'), 'POST', '/flush');
    const after = StatsSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', '/stats'));
    const d = DigestsSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', `/digests?after=${before.lastDigestId}&limit=10000`));
    const published = new Set<string>();
    for (const dg of d.digests) if (dg.published) for (const st of dg.statuses) for (const c of st.correlationIds) published.add(c);
    const matched = ids.filter((id) => published.has(id)).length;
    return { matched, fallback: after.fallback.events - before.fallback.events, digests: d.digests.length };
  } catch (err) {
    ev(`notifier accounting failed: ${redact((err as Error).message)}`, 'error');
    return undefined;
  }
}

/** Failures neither in a digest nor in the fallback counter; null when the notifier could not be read. */
export function unaccounted(failures: number, n: NotifierAccount | undefined): number | null {
  return n === undefined ? null : Math.max(0, failures - n.matched - n.fallback);
}
