// Wait until success metrics stay flat (each query within its relative tolerance of its previous
// value) for N polling intervals in a row — the token rotation drill revokes the old token only
// then (plan §4). A track with a success streak: the first reading is the baseline (not yet
// flat), a query without data or with an error breaks the streak and is an Error measurement,
// and the wait fails when the streak does not come within the timeout.
import { z } from 'zod';
import { DurationMs, PromQLSchema } from '../../config/common.ts';
import { Track, verdictOfPhase } from '../../score/track.ts';
import { runTracks } from '../../score/track-run.ts';
import { defineStep } from './step.ts';
import { readNumber } from '../../prom/read.ts';

const Query = z.strictObject({ name: z.string().min(1), query: PromQLSchema, tolerance: z.number().min(0).default(0.25), min: z.number().optional() });

export default defineStep({
  key: 'wait.stable',
  schema: z.strictObject({ queries: z.array(Query).min(1), interval: DurationMs, intervals: z.number().int().min(1).default(2), timeout: DurationMs }),
  async run(w, ctx) {
    const prom = ctx.target.prom;
    const expr = `${w.queries.map((q) => q.name).join(' and ')} flat (±${w.queries.map((q) => `${q.tolerance * 100}%`).join('/')}) for ${w.intervals} × ${w.interval / 1000}s`;
    const from = Date.now();
    const track = new Track(
      { name: ctx.label, intervalMs: w.interval, count: Math.floor(w.timeout / w.interval) + 1, consecutiveSuccessLimit: w.intervals, failureLimit: -1, errorRetryMs: w.interval },
      from,
    );
    let prev: number[] | undefined;
    const measure = async () => {
      if (prom === undefined) return { phase: 'Error' as const, value: null, detail: 'no Prometheus for this target' };
      const vals: number[] = [];
      for (const q of w.queries) {
        // One reading rule for every Prometheus answer (NaN, ±Inf, warnings, a wrong type, an error: no data, with why).
        const r = await readNumber(prom, q.query);
        if (!r.ok) {
          prev = undefined;
          return { phase: 'Error' as const, value: null, detail: `${q.name}: no data — ${r.reason}` };
        }
        const sum = r.value;
        if (q.min !== undefined && sum < q.min) {
          prev = undefined;
          return { phase: 'Error' as const, value: sum, detail: `${q.name} ${sum.toFixed(3)} below its minimum ${q.min}: not enough traffic to judge` };
        }
        vals.push(sum);
      }
      const shown = w.queries.map((q, k) => `${q.name} ${vals[k]!.toFixed(3)}`).join(', ');
      const before = prev;
      prev = vals;
      if (before === undefined) return { phase: 'Failed' as const, value: null, detail: `baseline ${shown}` };
      const flat = vals.every((v, k) => {
        const b = before[k]!;
        return b === 0 ? Math.abs(v) <= 1e-9 : Math.abs(v - b) <= w.queries[k]!.tolerance * Math.abs(b);
      });
      return { phase: flat ? ('Successful' as const) : ('Failed' as const), value: null, detail: `${flat ? 'flat' : 'moved'}: ${shown}` };
    };
    await runTracks([{ track, measure }], { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(w.timeout + w.interval)]) });
    if (!track.done) track.terminate(ctx.signal.aborted ? 'aborted' : `not flat within ${w.timeout / 1000} s`);
    const waited = Date.now() - from;
    ctx.figure(`${ctx.id}.waited_ms`, waited);
    const verdict = ctx.signal.aborted ? 'no_data' : verdictOfPhase(track.phase);
    const detail = verdict === 'pass' ? `flat for ${track.counters.consecutiveSuccess} polling intervals after ${(waited / 1000).toFixed(1)} s (${track.message})` : track.message;
    ctx.threshold({ name: ctx.label, source: 'promql', expr, observed: track.counters.consecutiveSuccess, verdict, detail });
    if (verdict !== 'pass') throw new Error(`${ctx.label}: ${detail}`);
    ctx.ev(`${ctx.label}: ${detail}`, 'measure');
  },
});
