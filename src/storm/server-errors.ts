// Gateway 5xx on the hook routes over a storm phase, as Prometheus counted them (the reference
// gateways' own request histogram) — what the gateways answered, beside what senders saw.
import type { ChaosTarget } from '../target/target.ts';
import { sleep } from '../util/sleep.ts';
import { readNumber } from '../prom/read.ts';

/** 5xx answers on `/hooks/*` over the last `windowMs`; null when there is no Prometheus or no gateway series. */
export async function gateway5xx(t: ChaosTarget, windowMs: number): Promise<number | null> {
  if (t.prom === undefined) return null;
  // Two scrape intervals for the last samples to land.
  await sleep(2_500);
  const s = Math.max(5, Math.ceil(windowMs / 1000) + 3);
  // NaN, ±Inf, a wrong type or an error is no data (null), never a number in the storm's results.
  const r = await readNumber(
    t.prom,
    `sum(increase(openclaw_http_request_duration_seconds_count{job="gateway",route=~"/hooks/.*",status_class="5xx"}[${s}s])) or on() (0 * sum(up{job="gateway"}))`,
  ).catch(() => undefined);
  return r?.ok ? Math.round(r.value) : null;
}
