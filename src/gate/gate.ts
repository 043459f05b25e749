// The pre-release gate and the scheduled CI run: scenarios in sequence against one target,
// the Metrics-to-monitor table over the whole window, then every report format.
import { scrapeIntervalSeconds } from '../config/profile.ts';
import { numberOf } from '../prom/read.ts';
import { metricLine, scenarioLine, thresholdLine } from '../report/console.ts';
import { summarizeProbes, probeThresholds } from '../probe/judge.ts';
import { ProbeSampler, type ProbeSample } from '../probe/sampler.ts';
import { promClientOf, type BoundTarget } from '../target/bind.ts';
import { chaosTargetFrom } from '../target/target.ts';
import { databaseUrlOf, withTarget } from '../target/with-target.ts';
import { resolveScenario, type ScenarioFile } from '../config/scenario.ts';
import type { EngineProgress } from '../load/engine.ts';
import { PromClient, PromError } from '../prom/client.ts';
import { evaluateMetricRows } from '../score/metrics.ts';
import { applyHostSaturation } from '../score/host.ts';
import { overallVerdict } from '../score/verdict.ts';
import type { ThresholdResult } from '../score/types.ts';
import { BASELINE_THRESHOLD_PREFIX, RESULTS_SCHEMA, TEMPLATE_SCENARIOS, type Results, type ResultsInput, type ScenarioResult } from '../report/results.ts';
import { writeReports, type WrittenReports } from '../report/write.ts';
import { fillFile } from '../report/fill.ts';
import { runScenario } from './scenario-run.ts';
import { runChaosSuite, type ChaosSuiteOptions } from './chaos-suite.ts';
import { newRunId } from '../util/ids.ts';
import { compareRuns, ranScenarios } from '../baseline/compare.ts';
import { comparisonSection, missingSection } from '../baseline/section.ts';
import { resolveBaseline } from '../baseline/source.ts';
import { withBaselineThresholds } from '../baseline/thresholds.ts';
import { BaselineRulesSchema } from '../baseline/rules.ts';
import type { BaselineSectionInput } from '../report/baseline-schema.ts';
import { indexRun } from '../history/record.ts';
import fs from 'node:fs';
import { RunEvents } from '../events/run-events.ts';
import { eventsRecord, originOf } from '../events/section.ts';
import { emitDrill, emitScenarioWindows } from '../events/emit.ts';
import type { TargetProfile } from '../config/profile.ts';
import { buildInfo, defaultIndexFile } from '../history/run-index.ts';
import { remoteWriteRun } from '../history/remote-write.ts';

export interface GateOptions {
  /** Scenario names or files; default the five of the plan in template order. */
  scenarios?: string[];
  profile: string;
  /** Target profile YAML; none → start the local test bed, run, stop it. */
  targetFile?: string;
  /** Reuse a running test bed (its state dir) instead of starting one. */
  testbedStateDir?: string;
  replicas?: number;
  outDir: string;
  fill?: string;
  signal: AbortSignal;
  /** Plain status lines (CI logs, and the terminal between progress displays). */
  log: (line: string) => void;
  onProgress?: (scenario: string, p: EngineProgress) => void;
  /** Also run the chaos drills and the webhook storm after the scenarios (`gate --with-drills`). */
  withDrills?: boolean;
  /** Which drills, drill options and storm settings, when withDrills. */
  chaos?: ChaosSuiteOptions;
  /** Judge the run against this one: a results.json, a run folder, or `last-pass` (from the run index). */
  baseline?: string;
  /** The run index this run is appended to (and `last-pass` is looked up in); null: do not index. */
  indexFile?: string | null;
  /** `gate` or `run`, as the index records it. */
  kind?: string;
  /** A Faro receiver for the run's events (over the profile's `faro.url`). */
  faroUrl?: string;
  /** Prometheus remote-write URL the run's figures are pushed to, for the trends dashboard. */
  remoteWrite?: string;
}

export interface GateOutcome {
  exitCode: 0 | 1 | 2 | 3;
  reports: WrittenReports;
  results: ResultsInput;
}

export class GateError extends Error {
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3) {
    super(message);
    this.exitCode = exitCode;
  }
}

export async function runGate(opts: GateOptions): Promise<GateOutcome> {
  const names = opts.scenarios && opts.scenarios.length > 0 ? opts.scenarios : TEMPLATE_SCENARIOS.map((s) => s.name);
  // Every scenario file is read and validated before anything starts.
  const files: ScenarioFile[] = names.map((n) => resolveScenario(n));
  for (const f of files) {
    if (f.profiles[opts.profile] === undefined) {
      throw new GateError(`${f.file}: profiles: scenario ${f.name} has no profile ${JSON.stringify(opts.profile)} (has ${Object.keys(f.profiles).join(', ')})`, 2);
    }
  }
  return withTarget(
    { targetFile: opts.targetFile, testbedStateDir: opts.testbedStateDir, bed: 'fresh', replicas: opts.replicas, signal: opts.signal, log: opts.log, what: 'gate', chaos: opts.withDrills === true },
    (bound) => gateOn(bound, files, opts),
  );
}

async function gateOn(bound: BoundTarget, files: ScenarioFile[], opts: GateOptions): Promise<GateOutcome> {
  const runId = newRunId();
  const startedAt = new Date();
  const databaseUrl = databaseUrlOf(bound);
  {
    const { profile } = bound;
    const promUrl = profile.prometheus.url;
    if (promUrl === undefined) throw new GateError(`${profile.file}: prometheus.url: required`, 2);
    const prom = promClientOf(bound)!;
    await checkPrometheus(prom, prom.url, opts.log);
    const scrape = scrapeIntervalSeconds(profile);
    const lb = profile.lb;
    if (lb === undefined) throw new GateError(`${profile.file}: lb: required`, 2);

    // The baseline is found before any load starts: a wrong path is a usage error, not a wasted run.
    const rules = BaselineRulesSchema.parse(profile.baseline ?? {});
    const baseline =
      opts.baseline === undefined
        ? undefined
        : resolveBaseline(opts.baseline, { indexFile: opts.indexFile ?? defaultIndexFile(), profile: opts.profile, target: profile.name });
    if (baseline !== undefined) opts.log(baseline.results === null ? `baseline: none (${baseline.note}); this run is not compared` : `baseline: ${baseline.results.runId} (${baseline.file})`);
    fs.mkdirSync(opts.outDir, { recursive: true });
    const events = runEventsFor(runId, opts, profile);
    events.event('run_start', { kind: opts.kind ?? 'gate', scenarios: files.map((f) => f.name).join(','), baseline: baseline?.results?.runId ?? null }, startedAt);

    const scenarios: ScenarioResult[] = [];
    let saturated = false;
    const saturation: string[] = [];
    let aborted = false;
    // Every gateway's probe through the whole run: a degraded gateway keeps serving (HTTP 200,
    // the load balancer keeps it), so only its probe says so — and that fails the gate.
    const sampler = new ProbeSampler(chaosTargetFrom(bound));
    sampler.start();
    let probeSamples: ProbeSample[] = [];
    try {
      for (const f of files) {
        if (opts.signal.aborted) {
          aborted = true;
          break;
        }
        opts.log(`${f.name}: start (${opts.profile})`);
        events.event('scenario_start', { scenario: f.name });
        const out = await runScenario(f, {
          profile: opts.profile,
          target: {
            baseUrl: lb,
            tokens: bound.tokens,
            runId,
            ...(databaseUrl ? { databaseUrl } : {}),
            ...(profile.websocket ? { wsConnectParams: profile.websocket.connectParams } : {}),
          },
          prom,
          scrapeIntervalSeconds: scrape,
          signal: opts.signal,
          sharedHost: bound.testbed !== undefined,
          ...(opts.onProgress ? { onProgress: (p: EngineProgress) => opts.onProgress?.(f.name, p) } : {}),
        });
        scenarios.push(out.result);
        emitScenarioWindows(events, f.name, out.result.series);
        events.event('scenario_end', { scenario: f.name, status: out.result.status, requests: out.result.requests, errors: out.result.errors, p99_ms: out.result.p99 });
        if (out.saturated) {
          saturated = true;
          saturation.push(...out.saturationReasons.map((r) => `${f.name}: ${r}`));
        }
        if (out.engine.aborted) aborted = true;
        opts.log(scenarioLine(out.result));
        for (const t of out.result.thresholds) opts.log(thresholdLine(t));
        if (aborted) break;
      }
    } finally {
      probeSamples = await sampler.stop();
    }
    const probes = summarizeProbes(probeSamples);
    const drillsFor = async (): Promise<ResultsInput['drills']> =>
      opts.withDrills && !aborted ? await runChaosSuite({ ...opts.chaos, bound, profile: opts.profile, signal: opts.signal, log: opts.log }) : [];
    return concludeRun({
      runId,
      profileName: opts.profile,
      target: profile,
      prom,
      scrapeIntervalSeconds: scrape,
      files,
      scenarios,
      startedAt,
      endedAt: undefined,
      probes,
      saturated,
      saturation,
      aborted,
      signal: opts.signal,
      drills: drillsFor,
      outDir: opts.outDir,
      ...(opts.fill !== undefined ? { fill: opts.fill } : {}),
      log: opts.log,
      ...(baseline !== undefined ? { baseline } : {}),
      rules,
      events,
      kind: opts.kind ?? 'gate',
      indexFile: opts.indexFile,
      ...(opts.remoteWrite !== undefined ? { remoteWrite: opts.remoteWrite } : {}),
    });
  }
}

/** The run's events: events.ndjson always, a Faro receiver when the flag or the profile names one. */
function runEventsFor(runId: string, opts: GateOptions, profile: TargetProfile): RunEvents {
  const url = opts.faroUrl ?? profile.faro?.url;
  const apiKey = process.env.CLAWSTORM_FARO_API_KEY;
  return new RunEvents({
    runId,
    outDir: opts.outDir,
    app: profile.faro?.app ?? 'clawstorm',
    attributes: { profile: opts.profile, target: profile.name },
    ...(url ? { receiver: { url, ...(apiKey ? { apiKey } : {}) } } : {}),
  });
}

export interface ConcludeInput {
  runId: string;
  profileName: string;
  target: { name: string; metrics: BoundTarget['profile']['metrics'] };
  prom: PromClient;
  scrapeIntervalSeconds: number;
  files: readonly ScenarioFile[];
  /** Scored scenarios; the template's others are added as Not run. */
  scenarios: ScenarioResult[];
  startedAt: Date;
  /** The end of the metrics window; undefined: now. */
  endedAt: Date | undefined;
  probes: ReturnType<typeof summarizeProbes> | undefined;
  saturated: boolean;
  saturation: string[];
  aborted: boolean;
  /** Parts of the run that never reported (see VerdictInput.incomplete). */
  incomplete?: string[];
  signal: AbortSignal;
  /** Run after the metrics window closed (their faults stay out of it). */
  drills?: () => Promise<ResultsInput['drills']>;
  outDir: string;
  fill?: string;
  log: (line: string) => void;
  /** Optional report sections (a distributed run's runners). */
  extra?: Partial<Pick<ResultsInput, 'runners'>>;
  /** The run this one is judged against (`--baseline`), found before the load started. */
  baseline?: ReturnType<typeof resolveBaseline>;
  rules?: ReturnType<typeof BaselineRulesSchema.parse>;
  /** The run's event stream (events.ndjson, a Faro receiver); closed here. */
  events?: RunEvents;
  /** What the run index records (`gate`, `run`, `judge`); the index file, null for none. */
  kind?: string;
  indexFile?: string | null;
  /** Prometheus remote-write URL for the run's figures (the trends dashboard). */
  remoteWrite?: string;
}

/**
 * The run's one conclusion, whoever measured it (this process, or every runner of a distributed
 * run merged by the judge): the Metrics-to-monitor table over the whole window, the verdict, every
 * report format, the team's file filled once.
 */
export async function concludeRun(c: ConcludeInput): Promise<GateOutcome> {
  const { prom, files, events } = c;
  let scenarios = c.scenarios;
  let aborted = c.aborted;
  // Scenarios of the template that were not asked for (or not reached) stay "Not run".
  for (const t of TEMPLATE_SCENARIOS) {
    if (!scenarios.some((s) => s.name === t.name)) {
      scenarios.push({ name: t.name, title: t.title, status: 'Not run', p50: null, p95: null, p99: null, errorRate: null, errorRateOf: 'requests', requests: 0, errors: 0, dropped: 0, thresholds: [], reasons: [], extra: {}, noData: {}, series: [] });
    }
  }
  const probeChecks = c.probes === undefined ? [] : probeThresholds(c.probes, { degraded: true });
  for (const t of probeChecks) c.log(thresholdLine(t));
  const endedAt = c.endedAt ?? new Date();
  c.log('metrics: scoring the Metrics-to-monitor table over the run window');
  // The latency rows span every scenario: a scenario run on a saturated host makes them inconclusive too.
  const busy = scenarios.filter((s) => s.reasons.some((r) => r.startsWith('host saturated')));
  const metrics = applyHostSaturation(
    await evaluateMetricRows(prom, c.target.metrics, { start: c.startedAt, end: endedAt, scrapeIntervalSeconds: c.scrapeIntervalSeconds }),
    busy.length > 0 ? `host saturated during ${busy.map((s) => s.name).join(', ')}` : undefined,
  );
  for (const m of metrics) c.log(metricLine(m));

  let baselineSection: BaselineSectionInput | undefined;
  const rules = c.rules ?? BaselineRulesSchema.parse({});
  if (c.baseline !== undefined && c.baseline.results !== null) {
    const comparison = compareRuns(ranScenarios(c.baseline.results), ranScenarios({ runId: c.runId, scenarios }), rules);
    scenarios = withBaselineThresholds(scenarios, comparison);
    baselineSection = comparisonSection(comparison, { requested: c.baseline.requested, file: c.baseline.file, startedAt: c.baseline.results.startedAt });
    for (const sc of comparison.scenarios) for (const m of sc.metrics) if (m.verdict !== 'pass') c.log(`baseline: ${sc.scenario} ${m.metric}: ${m.verdict} — ${m.reason}`);
  } else if (c.baseline !== undefined) {
    baselineSection = missingSection(c.baseline.requested, c.baseline.note, rules);
  }
  const all: Array<Pick<ThresholdResult, 'verdict' | 'source' | 'name'>> = [...scenarios.flatMap((s) => s.thresholds), ...probeChecks];
  // The whole plan exercises every row of the table, so there a row without data fails closed
  // (plan §3). A run of chosen scenarios may not touch a row at all (a policy-only run makes no
  // connector reads: 0/0): the row is reported as no data but does not decide the verdict.
  const wholePlan = TEMPLATE_SCENARIOS.every((t) => files.some((f) => f.name === t.name));
  for (const m of metrics) if (m.gate && (wholePlan || m.verdict !== 'no_data')) all.push({ verdict: m.verdict, source: 'promql', name: m.metric });
  const drills = (c.drills === undefined ? undefined : await c.drills()) ?? [];
  for (const d of drills) {
    all.push(...(d.thresholds ?? []));
    if (events) emitDrill(events, d);
  }
  if (c.signal.aborted) aborted = true;
  const verdict = overallVerdict({ thresholds: all, saturated: c.saturated, aborted, ...(c.incomplete ? { incomplete: c.incomplete } : {}) });
  const regressions = scenarios.reduce((n, sc) => n + sc.thresholds.filter((t) => t.name.startsWith(BASELINE_THRESHOLD_PREFIX) && t.verdict === 'fail').length, 0);
  let sent: Awaited<ReturnType<RunEvents['close']>> | undefined;
  if (events) {
    events.event('verdict', { verdict: verdict.verdict, exit_code: verdict.exitCode, regressions, aborted });
    events.event('run_end', { verdict: verdict.verdict });
    sent = await events.close();
    if (sent.receiver) c.log(`events: Faro receiver ${originOf(sent.receiver.url)}: ${sent.receiver.sent} sent, ${sent.receiver.dropped} dropped${sent.receiver.lastError ? ` (last error: ${sent.receiver.lastError})` : ''}`);
  }
  const results: ResultsInput = {
    schema: RESULTS_SCHEMA,
    runId: c.runId,
    startedAt: c.startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    profile: c.profileName,
    target: c.target.name,
    verdict: verdict.verdict,
    exitCode: verdict.exitCode,
    aborted,
    ...(aborted ? { abortReason: 'interrupted (SIGINT/SIGTERM) before every scenario finished' } : {}),
    reasons: verdict.reasons,
    scenarios: scenarios.sort((a, b) => order(a.name) - order(b.name)),
    thresholds: probeChecks,
    metrics,
    generator: { saturated: c.saturated, reasons: c.saturation, figures: {} },
    drills,
    ...(c.probes !== undefined ? { probes: c.probes } : {}),
    ...(baselineSection ? { baseline: baselineSection } : {}),
    ...(sent ? { events: eventsRecord(sent, c.outDir) } : {}),
    ...c.extra,
  };
  const reports = writeReports(c.outDir, results);
  for (const p of reports.problems) c.log(`results: repaired before writing: ${p}`);
  c.log(`reports: ${reports.json}, ${reports.markdown}, ${reports.junit}, ${reports.html}`);
  const written = reports.results;
  if (c.remoteWrite !== undefined) {
    const rw = await remoteWriteRun(c.remoteWrite, written, buildInfo().build);
    c.log(`remote write: ${rw.series} series to ${originOf(c.remoteWrite)}${rw.error ? ` failed: ${rw.error}` : ''}`);
  }
  if (c.indexFile !== null) {
    const indexFile = c.indexFile ?? defaultIndexFile();
    indexRun(indexFile, written, c.outDir, c.kind ?? 'gate');
    c.log(`history: indexed in ${indexFile}`);
  }
  if (c.fill !== undefined) fillTeamFile(c.fill, written, c.log);
  c.log(`verdict: ${written.verdict} (exit ${written.exitCode})${written.reasons.length ? ` — ${written.reasons.join('; ')}` : ''}`);
  return { exitCode: written.exitCode, reports, results: written };
}


/**
 * Fill the team's Markdown: the results table always (a file without one is an error, unless
 * `append`), the metrics tables where the file has them.
 */
export function fillTeamFile(file: string, results: Pick<Results, 'scenarios' | 'metrics'>, log: (l: string) => void, opts: { append?: boolean } = {}): void {
  const outcome = fillFile(file, results, { tables: ['results', 'metrics'], require: ['results'], ...(opts.append ? { append: true } : {}) });
  const where = outcome.appended.includes('results') ? 'results table added at the end' : `results table at line ${outcome.resultsLine ?? '?'}`;
  log(`fill: ${file}: ${outcome.changed ? 'updated' : 'already up to date'} (${where}, ${outcome.filled.metrics} metrics table${outcome.filled.metrics === 1 ? '' : 's'})`);
}

/**
 * Nothing to score server-side when Prometheus cannot be reached at all (refused, no such host):
 * stop before the load, exit 3, one line. A Prometheus that answers, even badly (an error status,
 * a body that is not the API's, an answer too late), does not stop the run: the load and the
 * client-side scoring go ahead, and every row Prometheus cannot give a number for is no data.
 */
async function checkPrometheus(prom: PromClient, url: string, log: (l: string) => void): Promise<void> {
  try {
    const r = numberOf(await prom.instant('vector(1)'), 'vector(1)');
    if (!r.ok || r.value !== 1) log(`prometheus: ${url} answers, but not as Prometheus should (vector(1) → ${r.ok ? r.value : r.reason}); PromQL rows it cannot answer will be no data`);
  } catch (err) {
    if (err instanceof PromError && err.kind === 'unreachable' && !/no answer within/.test(err.message)) throw new GateError(`Prometheus at ${url} is not answering: ${err.message}`, 3);
    log(`prometheus: ${url} answered badly (${err instanceof Error ? err.message : String(err)}); the run goes on, PromQL rows it cannot answer will be no data`);
  }
}

function order(name: string): number {
  const i = TEMPLATE_SCENARIOS.findIndex((t) => t.name === name);
  return i < 0 ? TEMPLATE_SCENARIOS.length : i;
}
