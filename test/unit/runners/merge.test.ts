// Merging runners' measurements: per-second chart points come from the merged per-second
// histograms — the same points one sink recording every runner's samples would give.
import { describe, expect, it } from 'vitest';
import { SampleSink, type SampleTags } from '../../../src/load/samples.ts';
import { mergeMeasurements } from '../../../src/runners/merge.ts';
import type { ScenarioMeasurement } from '../../../src/gate/scenario-run.ts';

const tags: SampleTags = { scenario: 's', step: 'a', method: 'GET', status_class: '2xx' };

/** Feed samples (second, latency ms) into sinks with a controlled clock. */
function sinkOf(samples: Array<[number, number]>, keep: boolean): SampleSink {
  let now = 0;
  const sink = new SampleSink({ now: () => now, secondHistograms: keep });
  for (const [sec, ms] of samples) {
    now = sec * 1000 + 1;
    sink.record({ tags, latencyMs: ms, ok: true });
  }
  return sink;
}

function measurement(sink: SampleSink): ScenarioMeasurement {
  const summary = sink.summary().scenarios[0]!;
  return {
    name: 's',
    startedAt: 0,
    endedAt: 10_000,
    aborted: false,
    summary,
    tagSets: sink.summary().tagSets,
    executor: { planned: undefined, started: 0, completed: 0, failed: 0, interrupted: 0, dropped: 0, peakVus: 1, setupFailures: 0, watchdogFired: false },
    series: sink.buckets('s'),
    monitor: { saturated: false, reasons: [], eventLoopP99Ms: 0, eventLoopMaxMs: 0, cpuPct: 0, cpuPctMax: 0, hostCpuPct: null, generatorHostSharePct: null, hostStealPct: null, pacerLagP99Ms: null, pacerLagMaxMs: null, watchedMs: 0 },
    audit: undefined,
  };
}

describe('merging runners', () => {
  it('per-second percentiles of the merged series equal those of one sink over every sample', () => {
    // Samples in time order, as a sink receives them.
    const bySecond = (x: [number, number], y: [number, number]) => x[0] - y[0];
    const a: Array<[number, number]> = Array.from({ length: 60 }, (_, k): [number, number] => [100 + (k % 3), 5 + k]).sort(bySecond);
    const b: Array<[number, number]> = Array.from({ length: 40 }, (_, k): [number, number] => [101 + (k % 3), 200 + 3 * k]).sort(bySecond);
    const merged = mergeMeasurements('s', [
      { who: 'runner 1/2', m: measurement(sinkOf(a, true)) },
      { who: 'runner 2/2', m: measurement(sinkOf(b, true)) },
    ]);
    const union = sinkOf([...a, ...b].sort(bySecond), false).buckets('s');
    const strip = ({ histogram: _h, ...rest }: (typeof merged.series)[number]) => rest;
    expect(merged.series.map(strip)).toEqual(union);
    // Second 101 had samples from both runners: its P95 is the union's, not either runner's.
    expect(merged.series.find((x) => x.t === 101)?.p95).toBeGreaterThan(200);
  });

  it('without per-second histograms a second two runners measured keeps its counts and no percentile', () => {
    const merged = mergeMeasurements('s', [
      { who: 'runner 1/2', m: measurement(sinkOf([[100, 5]], false)) },
      { who: 'runner 2/2', m: measurement(sinkOf([[100, 50]], false)) },
    ]);
    expect(merged.series).toEqual([{ t: 100, count: 2, errors: 0, p50: null, p95: null, p99: null, max: 50 }]);
  });
});
