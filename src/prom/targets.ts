// Waiting on Prometheus's scrape targets: a test bed is up only when every target it configured
// has been scraped successfully.
import { waitFor } from '../util/wait.ts';
import { PromClient } from './client.ts';

export interface WaitTargetsOptions {
  /** Only these jobs must be up; default: every active target. */
  jobs?: string[];
  /** Default 30 s. */
  timeoutMs?: number;
}

/**
 * Resolve when every (selected) active target has been scraped successfully (`health: up`,
 * i.e. `up == 1`) and each selected job has at least one target. On timeout the error names
 * each target that is not up and its last scrape error.
 */
export async function waitForTargetsUp(url: string, opts: WaitTargetsOptions = {}): Promise<void> {
  const client = new PromClient({ url, timeoutMs: 2_000 });
  let pending = 'no answer from the targets API yet';
  try {
    await waitFor(
      async () => {
        const targets = (await client.targets()).filter((t) => !opts.jobs || opts.jobs.includes(t.scrapePool));
        const missingJobs = (opts.jobs ?? []).filter((j) => !targets.some((t) => t.scrapePool === j));
        const down = targets.filter((t) => t.health !== 'up');
        pending = [
          ...missingJobs.map((j) => `job ${j}: no target`),
          ...down.map((t) => `${t.scrapePool} ${t.scrapeUrl}: ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`),
        ].join('; ');
        return targets.length > 0 && missingJobs.length === 0 && down.length === 0;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 200, what: `scrape targets of ${url} to be up` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; not up: ${pending}`);
  }
}
