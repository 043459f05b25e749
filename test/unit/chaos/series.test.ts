import { describe, expect, it } from 'vitest';
import { clientSeries, DrillLoad } from '../../../src/chaos/load.ts';
import { parseResults } from '../../../src/report/results.ts';

describe("a drill's client series", () => {
  it('is the load’s per-second buckets (tools and webhooks together), empty without load', () => {
    expect(clientSeries(undefined)).toEqual([]);
    const load = new DrillLoad({ spec: {}, lbUrl: 'http://127.0.0.1:9', tokens: {}, runId: 'r' });
    const tags = (scenario: string, ok: boolean) => ({ scenario, step: 's', method: 'POST', status_class: ok ? ('2xx' as const) : ('5xx' as const) });
    load.sink.record({ tags: tags('tools', true), latencyMs: 40, ok: true });
    load.sink.record({ tags: tags('webhooks', false), latencyMs: 120, ok: false });
    const series = clientSeries(load);
    expect(series.reduce((n, b) => n + b.count, 0)).toBe(2);
    expect(series.reduce((n, b) => n + b.errors, 0)).toBe(1);
    // It fits the results schema of a drill as it is.
    const r = parseResults({
      schema: 'clawstorm.results/v1', runId: 'x', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', profile: 'smoke', target: 'local',
      verdict: 'pass', exitCode: 0, aborted: false, scenarios: [], generator: { saturated: false },
      drills: [{ name: 'd', title: 'D', status: 'Pass', series }],
    });
    expect(r.drills[0]!.series).toEqual(series);
  });
});
