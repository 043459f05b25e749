// Stored runs for the baseline and history tests: results.json documents whose scenarios carry
// HDR histograms drawn from known distributions, so a regression is one we put there.
import fs from 'node:fs';
import path from 'node:path';
import type { LatencyHistogram } from '../../../src/load/histogram.ts';
import { serializeResults, type ResultsInput } from '../../../src/report/results.ts';
import { sampleResults } from '../report/fixtures.ts';
import { latencyHistogram, type LatencyShape } from './fixtures.ts';

export function storedRun(runId: string, seed: number, shape: LatencyShape = {}, opts: { errors?: number; count?: number; verdict?: 'pass' | 'fail'; startedAt?: string } = {}): ResultsInput {
  const r = sampleResults();
  const count = opts.count ?? 5_000;
  const h: LatencyHistogram = latencyHistogram(count, seed, shape);
  const s = r.scenarios[0]!;
  const startedAt = opts.startedAt ?? r.startedAt;
  return {
    ...r,
    schema: 'clawstorm.results/v2',
    runId,
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 300_000).toISOString(),
    verdict: opts.verdict ?? 'pass',
    exitCode: opts.verdict === 'fail' ? 1 : 0,
    scenarios: [
      {
        ...s,
        status: 'Pass',
        thresholds: [],
        requests: count,
        errors: opts.errors ?? 0,
        errorRate: (opts.errors ?? 0) / count,
        p50: h.percentileMs(50),
        p95: h.percentileMs(95),
        p99: h.percentileMs(99),
        histogram: h.encode(),
      },
    ],
  };
}

/** Write a run as its folder holds it; returns the folder. */
export function writeRun(dir: string, r: ResultsInput): string {
  const folder = path.join(dir, r.runId);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'results.json'), serializeResults(r));
  return folder;
}
