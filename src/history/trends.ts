// Trends over indexed runs: the last N runs' results, scenario by scenario, and the baseline
// the next run will be judged against.
import { readResults, BASELINE_THRESHOLD_PREFIX, type Results, type ScenarioResult } from '../report/results.ts';
import type { ScenarioTrend, TrendPoint, TrendRun, Trends } from '../report/trends-data.ts';
import path from 'node:path';
import { renderTrendsHtml } from '../report/trends-html.ts';
import { renderTrendsMarkdown } from '../report/trends-markdown.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { lastPass, readIndex, runDir, type RunIndex, type RunIndexEntry } from './run-index.ts';

function pointOf(s: ScenarioResult): TrendPoint | null {
  if (s.status === 'Not run') return null;
  const seconds = s.startedAt && s.endedAt ? (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000 : NaN;
  return {
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    errorRate: s.errorRate,
    throughput: Number.isFinite(seconds) && seconds > 0 ? s.requests / seconds : null,
    regression: s.thresholds.some((t) => t.name.startsWith(BASELINE_THRESHOLD_PREFIX) && t.verdict === 'fail'),
    // applySaturation / applyHostSaturation keep what was measured in the detail: "(measured fail)".
    untrustedRegression: s.thresholds.some((t) => t.name.startsWith(BASELINE_THRESHOLD_PREFIX) && t.verdict === 'inconclusive' && /measured fail/.test(t.detail)),
    failed: s.status === 'Fail',
  };
}

const byStart = (a: RunIndexEntry, b: RunIndexEntry) => Date.parse(a.startedAt) - Date.parse(b.startedAt);

/**
 * The baseline now: what the newest run was judged against, when it still is in the index; else
 * the newest passing run of the newest run's profile and target (what `--baseline last-pass`
 * would pick next).
 */
export function currentBaseline(index: RunIndex): { entry: RunIndexEntry; why: string } | null {
  const runs = [...index.runs].sort(byStart);
  const newest = runs.at(-1);
  if (newest === undefined) return null;
  const judged = [...runs].reverse().find((r) => r.baselineRunId !== null && runs.some((x) => x.runId === r.baselineRunId));
  if (judged !== undefined) return { entry: runs.find((x) => x.runId === judged.baselineRunId)!, why: `the baseline ${judged.runId} was judged against` };
  const pass = lastPass(index, { profile: newest.profile, target: newest.target });
  return pass === undefined ? null : { entry: pass, why: `the last passing ${newest.profile} run against ${newest.target}` };
}

function load(indexFile: string, e: RunIndexEntry): { results: Results | null; missing: string | null } {
  try {
    return { results: readResults(`${runDir(indexFile, e)}/results.json`), missing: null };
  } catch (err) {
    return { results: null, missing: (err as Error).message.split('\n')[0] ?? 'unreadable' };
  }
}

export function buildTrends(indexFile: string, index: RunIndex, opts: { last?: number } = {}): Trends {
  const entries = [...index.runs].sort(byStart).filter((e) => e.kind === 'gate' || e.kind === 'run');
  const shown = opts.last !== undefined ? entries.slice(-opts.last) : entries;
  const loaded = shown.map((e) => ({ e, ...load(indexFile, e) }));
  const runs: TrendRun[] = loaded.map(({ e, missing }) => ({
    runId: e.runId,
    startedAt: e.startedAt,
    profile: e.profile,
    target: e.target,
    build: e.build,
    commit: e.commit,
    verdict: e.verdict,
    baselineRunId: e.baselineRunId,
    missing,
  }));
  const titles = new Map<string, string>();
  for (const { results } of loaded) for (const s of results?.scenarios ?? []) if (s.status !== 'Not run' && !titles.has(s.name)) titles.set(s.name, s.title);
  const scenarios: ScenarioTrend[] = [...titles].map(([name, title]) => ({
    name,
    title,
    points: loaded.map(({ results }) => {
      const s = results?.scenarios.find((x) => x.name === name);
      return s === undefined ? null : pointOf(s);
    }),
  }));
  const base = currentBaseline(index);
  let baseline: Trends['baseline'] = null;
  if (base !== null) {
    const { results } = load(indexFile, base.entry);
    if (results !== null) {
      const points: Record<string, TrendPoint> = {};
      for (const s of results.scenarios) {
        const p = pointOf(s);
        if (p !== null) points[s.name] = p;
      }
      baseline = { runId: base.entry.runId, why: base.why, points };
    }
  }
  return { runs, scenarios, baseline };
}

/** trends.html and trends.md of an index, into `outDir`. */
export function writeTrends(indexFile: string, outDir: string, opts: { last?: number } = {}): { html: string; md: string; trends: Trends } {
  const trends = buildTrends(indexFile, readIndex(indexFile), opts);
  const html = path.join(outDir, 'trends.html');
  const md = path.join(outDir, 'trends.md');
  writeFileAtomic(html, renderTrendsHtml(trends));
  writeFileAtomic(md, renderTrendsMarkdown(trends));
  return { html, md, trends };
}
