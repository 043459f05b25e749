// A finished run's figures as Prometheus samples (remote write), so a trends dashboard reads the
// same numbers as trends.html from Prometheus: per scenario the P50/P95/P99, error ratio and
// throughput, and per run the verdict, exit code and regressions, each stamped with the run's
// end. Labels are the run's profile, target and build — never its id, which would make a new
// series every night.
import { pushTimeseries } from 'prometheus-remote-write';
import { BASELINE_THRESHOLD_PREFIX, type Results } from '../report/results.ts';

export interface Sample {
  labels: { __name__: string; [k: string]: string };
  samples: { value: number; timestamp: number }[];
}

const VERDICTS = ['pass', 'fail', 'inconclusive', 'no_data'] as const;

export function runSeries(r: Pick<Results, 'endedAt' | 'profile' | 'target' | 'verdict' | 'exitCode' | 'scenarios'>, build: string | null): Sample[] {
  const ts = Date.parse(r.endedAt);
  const base = { profile: r.profile, target: r.target, ...(build ? { build } : {}) };
  const out: Sample[] = [];
  const add = (name: string, labels: Record<string, string>, value: number | null) => {
    if (value === null || !Number.isFinite(value)) return;
    out.push({ labels: { __name__: name, ...base, ...labels }, samples: [{ value, timestamp: ts }] });
  };
  for (const s of r.scenarios) {
    if (s.status === 'Not run') continue;
    const scenario = { scenario: s.name };
    add('clawstorm_run_latency_ms', { ...scenario, quantile: '0.5' }, s.p50);
    add('clawstorm_run_latency_ms', { ...scenario, quantile: '0.95' }, s.p95);
    add('clawstorm_run_latency_ms', { ...scenario, quantile: '0.99' }, s.p99);
    add('clawstorm_run_error_ratio', scenario, s.errorRate);
    const seconds = s.startedAt && s.endedAt ? (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000 : NaN;
    add('clawstorm_run_throughput_rps', scenario, seconds > 0 ? s.requests / seconds : null);
    add('clawstorm_run_regressions', scenario, s.thresholds.filter((t) => t.name.startsWith(BASELINE_THRESHOLD_PREFIX) && t.verdict === 'fail').length);
  }
  // One series per verdict word, 1 for this run's (a state set): a dashboard can count or annotate either.
  for (const v of VERDICTS) add('clawstorm_run_verdict', { verdict: v }, r.verdict === v ? 1 : 0);
  add('clawstorm_run_exit_code', {}, r.exitCode);
  return out;
}

/** Push a run's series; a failure is returned, never thrown (the run's verdict does not depend on it). */
export async function remoteWriteRun(url: string, r: Parameters<typeof runSeries>[0], build: string | null): Promise<{ series: number; error: string | null }> {
  const series = runSeries(r, build);
  try {
    const res = await pushTimeseries(series, { url, timeout: 10_000, fetch: fetch as never });
    return { series: series.length, error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}${res.errorMessage ? `: ${res.errorMessage}` : ''}` };
  } catch (err) {
    return { series: series.length, error: (err as Error).message };
  }
}
