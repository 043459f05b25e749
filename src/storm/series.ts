// A storm discipline's answers per second, for the report's chart: requests answered, deliveries
// accepted, 429s, and — once the receiving side has been asked — the acknowledged deliveries
// whose run never showed up, counted in the second they were acknowledged (so a loss lines up
// with the fault that caused it). When the receiving side could not be read, lost is null in
// every second: not known is not zero.
import type { StormSecond } from '../report/results.ts';
import type { Attempt } from '../webhooks/sender.ts';

export function stormSeconds(attempts: ReadonlyArray<Pick<Attempt, 'at' | 'status' | 'runId'>>, lostRunIds: readonly string[] | null): StormSecond[] {
  const lost = new Set(lostRunIds ?? []);
  const zero = (t: number): StormSecond => ({ t, requests: 0, accepted: 0, status429: 0, lost: lostRunIds === null ? null : 0 });
  const counted = new Set<string>();
  const bySecond = new Map<number, StormSecond>();
  for (const a of attempts) {
    const t = Math.floor(a.at / 1000);
    const s = bySecond.get(t) ?? zero(t);
    s.requests += 1;
    if (a.status === 429) s.status429 += 1;
    if (a.runId !== undefined && a.status >= 200 && a.status < 300) {
      s.accepted += 1;
      // A run acknowledged twice (a redelivery answered with the same run) is lost once.
      if (s.lost !== null && lost.has(a.runId) && !counted.has(a.runId)) {
        counted.add(a.runId);
        s.lost += 1;
      }
    }
    bySecond.set(t, s);
  }
  // Seconds in which nothing was answered are zeros, not gaps a chart would draw a line across.
  const ts = [...bySecond.keys()];
  if (ts.length === 0) return [];
  const out: StormSecond[] = [];
  for (let t = Math.min(...ts); t <= Math.max(...ts); t++) out.push(bySecond.get(t) ?? zero(t));
  return out;
}
