// clawstorm scale replay
import fs from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { quantityToMilli } from '../autoscale/quantity.ts';
import { logFileOf } from '../scale/log.ts';
import type { PlanOptions } from '../scale/plan.ts';
import { ReplayError, runReplay } from '../scale/replay-run.ts';
import { loadTestbed } from '../testbed/control.ts';
import { latestTestbed, resolveStateDir } from '../testbed/state.ts';
import { parseDuration } from '../util/duration.ts';
import { timeStamp } from '../util/ids.ts';
import { CliError, EXIT } from './errors.ts';

const say = (s: string) => process.stderr.write(`${s}\n`);

interface ReplayArgs {
  hpa?: string;
  scaledobject?: string;
  run?: string;
  from?: string;
  to?: string;
  prometheus?: string;
  'testbed-state'?: string;
  'sync-period'?: string;
  metric?: string[];
  'pods-query'?: string;
  'pod-label'?: string;
  'replicas-query'?: string;
  requests?: string;
  guardrails: string;
  'canary-cap'?: number;
  'canary-active-query'?: string;
  'compare-live'?: string;
  'max-lag'?: string;
  out?: string;
  json: boolean;
}

/** ISO 8601 or unix seconds. */
export function parseTime(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`${flag}: ${JSON.stringify(text)} is not a time (ISO 8601 such as 2026-05-17T10:15:02Z, or unix seconds)`, EXIT.usage);
  return ms / 1000;
}

export function parseMetricFlags(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0 || i === item.length - 1) throw new CliError(`--metric: ${JSON.stringify(item)} must be NAME=PROMQL`, EXIT.usage);
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

/** `cpu=500m,memory=512Mi` → cores and bytes. */
export function parseRequests(text: string): { cpu?: number; memory?: number } {
  const out: { cpu?: number; memory?: number } = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    const milli = v === undefined ? undefined : quantityToMilli(v);
    if ((k !== 'cpu' && k !== 'memory') || milli === undefined || milli <= 0) throw new CliError(`--requests: ${JSON.stringify(part)} must be cpu=QUANTITY or memory=QUANTITY (e.g. cpu=500m,memory=512Mi)`, EXIT.usage);
    out[k] = milli / 1000;
  }
  return out;
}

export function planOptionsFrom(a: Pick<ReplayArgs, 'metric' | 'pods-query' | 'pod-label' | 'replicas-query' | 'requests' | 'guardrails' | 'canary-cap' | 'canary-active-query'>): PlanOptions {
  const names = a.guardrails === 'none' ? [] : a.guardrails.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (n !== 'degraded' && n !== 'disk') throw new CliError(`--guardrails: unknown guardrail ${JSON.stringify(n)} (degraded, disk, or none; the canary cap is --canary-cap)`, EXIT.usage);
  return {
    ...(a['pods-query'] === undefined ? {} : { podsQuery: a['pods-query'] }),
    ...(a['pod-label'] === undefined ? {} : { podLabel: a['pod-label'] }),
    ...(a['replicas-query'] === undefined ? {} : { replicasQuery: a['replicas-query'] }),
    metricQueries: parseMetricFlags(a.metric ?? []),
    ...(a.requests === undefined ? {} : { requests: parseRequests(a.requests) }),
    guardrails: {
      degraded: names.includes('degraded'),
      disk: names.includes('disk'),
      canaryMaxReplicas: a['canary-cap'] ?? null,
      ...(a['canary-active-query'] === undefined ? {} : { canaryActiveQuery: a['canary-active-query'] }),
    },
  };
}

export function wholeSeconds(text: string, flag: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new CliError(`${flag}: ${(err as Error).message}`, EXIT.usage);
  }
  if (ms < 1000 || ms % 1000 !== 0) throw new CliError(`${flag}: must be whole seconds, at least 1s (got ${text})`, EXIT.usage);
  return ms / 1000;
}

function prometheusUrl(a: ReplayArgs): string {
  if (a.prometheus !== undefined) return a.prometheus;
  const dir = a['testbed-state'] ?? latestTestbed()?.stateDir;
  if (dir === undefined) throw new CliError('no Prometheus: give --prometheus URL or --testbed-state DIR (no test bed is running)', EXIT.usage);
  return loadTestbed(dir).endpoints.prometheus.url;
}

function liveLogPath(ref: string): string {
  if (ref.endsWith('.jsonl') && fs.existsSync(ref)) return path.resolve(ref);
  return logFileOf(resolveStateDir(ref));
}

const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay',
  describe: "replay a user's autoscaling/v2 HPA or KEDA ScaledObject over a run's Prometheus series: decisions, desired vs actual replicas, capacity lag, the avg() scrape-gap over-read (exit 0 ok, 1 a threshold failed, 2 bad input, 3 no data)",
  builder: (y: Argv) =>
    y
      .option('hpa', { type: 'string', describe: 'autoscaling/v2 HorizontalPodAutoscaler YAML, unchanged' })
      .option('scaledobject', { type: 'string', describe: 'KEDA ScaledObject YAML, unchanged' })
      .option('run', { type: 'string', describe: "a run's report directory (reports/runs/<id>): its window is replayed" })
      .option('from', { type: 'string', describe: 'window start (ISO 8601 or unix seconds)' })
      .option('to', { type: 'string', describe: 'window end' })
      .option('prometheus', { type: 'string', describe: 'Prometheus base URL', defaultDescription: "the test bed's" })
      .option('testbed-state', { type: 'string', describe: 'take Prometheus from this test bed (state dir or id)' })
      .option('sync-period', { type: 'string', describe: "the HPA's sync period (KEDA polls on its own pollingInterval)", defaultDescription: "15s, or the live log's" })
      .option('metric', { type: 'string', array: true, describe: 'NAME=PROMQL for an External/Object metric (the adapter rule), or cpu=/memory= to override the resource queries' })
      .option('pods-query', { type: 'string', describe: 'one series per pod that exists', defaultDescription: 'up{job="gateway"}' })
      .option('pod-label', { type: 'string', describe: 'the label naming the pod', defaultDescription: 'gateway' })
      .option('replicas-query', { type: 'string', describe: 'scale.spec.replicas as a series', defaultDescription: "the live autoscaler's count, else count(up{job=\"gateway\"})" })
      .option('requests', { type: 'string', describe: 'per-pod requests for Resource utilisation, e.g. cpu=500m,memory=512Mi' })
      .option('guardrails', { type: 'string', default: 'degraded,disk', describe: 'guardrails applied: degraded, disk, or none' })
      .option('canary-cap', { type: 'number', describe: 'max replicas while a canary is active' })
      .option('canary-active-query', { type: 'string', describe: 'PromQL whose value > 0 means a canary is active' })
      .option('compare-live', { type: 'string', describe: "a test bed (state dir or id) or its autoscale/log.jsonl: compare decision by decision with its live controller" })
      .option('max-lag', { type: 'string', describe: 'fail when a capacity-lag interval lasts longer, e.g. 60s' })
      .option('out', { type: 'string', describe: 'report directory', defaultDescription: '<run>/scale-replay or reports/runs/<time>-scale-replay' })
      .option('json', { type: 'boolean', default: false, describe: 'print results.json on stdout' })
      .check((a) => {
        if ((a.hpa === undefined) === (a.scaledobject === undefined)) return 'give exactly one of --hpa FILE or --scaledobject FILE';
        if (a.run !== undefined && (a.from !== undefined || a.to !== undefined)) return '--run and --from/--to exclude each other';
        if ((a.from === undefined) !== (a.to === undefined)) return '--from and --to go together';
        if (a.run === undefined && a.from === undefined && a['compare-live'] === undefined) return 'give a window: --run DIR, or --from T --to T (or --compare-live BED for the live window)';
        return true;
      }) as Argv<ReplayArgs>,
  handler: async (a) => {
    const outDir = path.resolve(a.out ?? (a.run !== undefined ? path.join(a.run, 'scale-replay') : path.join('reports', 'runs', `${timeStamp()}-scale-replay`)));
    try {
      const outcome = await runReplay({
        file: (a.hpa ?? a.scaledobject)!,
        expect: a.hpa !== undefined ? 'hpa' : 'keda',
        ...(a.from === undefined ? {} : { from: parseTime(a.from, '--from') }),
        ...(a.to === undefined ? {} : { to: parseTime(a.to, '--to') }),
        ...(a.run === undefined ? {} : { runDir: a.run }),
        prometheusUrl: prometheusUrl(a),
        ...(a['sync-period'] === undefined ? {} : { syncPeriodSeconds: wholeSeconds(a['sync-period'], '--sync-period') }),
        plan: planOptionsFrom(a),
        ...(a['compare-live'] === undefined ? {} : { liveLog: liveLogPath(a['compare-live']) }),
        ...(a['max-lag'] === undefined ? {} : { maxLagSeconds: parseDuration(a['max-lag']) / 1000 }),
        outDir,
        log: say,
      });
      const s = outcome.results.autoscale!;
      say(`${s.syncs} syncs, ${s.events.length} scale events, capacity lag ${s.lag.totalSeconds} s${s.overRead.checked.length ? `, avg() over-read adds up to ${s.overRead.maxExtraReplicas} replica(s)` : ''}${outcome.diff ? `, ${outcome.diff.differing.length} difference(s) with the live controller over ${outcome.diff.compared} syncs` : ''}`);
      say(`verdict ${outcome.results.verdict}: reports in ${outDir}`);
      if (a.json) process.stdout.write(fs.readFileSync(outcome.reports.json, 'utf8'));
      process.exitCode = outcome.exitCode;
    } catch (err) {
      if (err instanceof ReplayError) throw new CliError(err.message, err.exitCode);
      throw err;
    }
  },
};

export const scaleCommand: CommandModule = {
  command: 'scale <command>',
  describe: 'what an HPA or KEDA ScaledObject would have done (and did, on a test bed started with --autoscale)',
  builder: (y: Argv) => y.command(replayCommand as unknown as CommandModule).demandCommand(1, 'name a scale command: replay'),
  handler: () => {},
};
