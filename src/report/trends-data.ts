// What the trend page shows, as plain data: the runs in order and, per scenario, one point per
// run. Built from the run index and each run's results.json (src/history/trends.ts); rendered
// by trends-html.ts and trends-markdown.ts. A value that was not measured is null, never 0.

export interface TrendRun {
  runId: string;
  startedAt: string;
  profile: string;
  target: string;
  build: string | null;
  commit: string | null;
  verdict: 'pass' | 'fail' | 'inconclusive' | 'no_data';
  /** The run was judged against this one. */
  baselineRunId: string | null;
  /** Its results could not be read (folder gone, invalid): only the index entry is shown. */
  missing: string | null;
}

export interface TrendPoint {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  errorRate: number | null;
  /** Requests per second over the scenario's own window. */
  throughput: number | null;
  /** A baseline threshold of this scenario failed in this run. */
  regression: boolean;
  /** A baseline threshold measured a regression that was not trusted (a saturated host or generator made it inconclusive). */
  untrustedRegression: boolean;
  /** The scenario's own status failed (a gate threshold). */
  failed: boolean;
}

export interface ScenarioTrend {
  name: string;
  title: string;
  /** One per run, in run order; null where the scenario did not run. */
  points: (TrendPoint | null)[];
}

export interface Trends {
  runs: TrendRun[];
  scenarios: ScenarioTrend[];
  /** The baseline the next run is judged against, drawn as a line; null when there is none. */
  baseline: { runId: string; why: string; points: Record<string, TrendPoint> } | null;
}
