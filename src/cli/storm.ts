// clawstorm storm webhooks
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ProfileError } from '../config/errors.ts';
import type { TargetProfile } from '../config/profile.ts';
import { chaosResults, writeChaosReports } from '../chaos/run.ts';
import { journalDir, JournalError } from '../faults/journal.ts';
import { ChaosTargetError, withChaosTarget } from '../target/target.ts';
import { defaultStormOptions, withShare, withStormSize, type StormFault, type StormOptions } from '../storm/options.ts';
import { AIMS, type Aim } from '../webhooks/aims.ts';
import { AFTER_HEAL, parseSchedule, SOON, type RedeliverySchedule } from '../storm/schedule.ts';
import { parseDuration } from '../util/duration.ts';
import { runStorm } from '../storm/storm.ts';
import type { Discipline } from '../webhooks/sender.ts';
import { exitCodeForError } from '../score/verdict.ts';
import { interruptible, printDrill } from './drill.ts';
import { say, stdout } from './output.ts';
import { indexRun } from '../history/record.ts';
import { recordChaosRun } from '../events/chaos-run.ts';
import { defaultIndexFile } from '../history/run-index.ts';
import { CliError, EXIT } from './errors.ts';
import { timeStamp } from '../util/ids.ts';


interface StormArgs {
  senders?: number;
  deliveries?: number;
  discipline: 'capped' | 'unbounded' | 'both';
  fault: StormFault;
  redeliver?: number;
  'after-heal'?: number;
  schedule?: string[];
  aims?: string[];
  'heal-timeout'?: string;
  'bad-token': boolean;
  'bad-token-senders': number;
  'bad-token-via': 'lb' | 'gateways';
  'digest-sink-down': boolean;
  target?: string;
  'testbed-state'?: string;
  out?: string;
  profile: string;
  journal?: string;
}

const webhooksCommand: CommandModule<object, StormArgs> = {
  command: 'webhooks',
  describe: 'a webhook retry storm: capped vs unbounded senders, a fault mid-storm, redeliveries; accepted / duplicated / lost, 429s, queue depth, digests',
  builder: (y: Argv) =>
    y
      .option('senders', { type: 'number', describe: "concurrent senders (providers); default the target profile's storm.senders, else 200", defaultDescription: '200' })
      .option('deliveries', { type: 'number', describe: 'deliveries per sender', defaultDescription: 'smoke 5, full 25' })
      .option('discipline', { type: 'string', choices: ['capped', 'unbounded', 'both'], default: 'both', describe: 'capped: 3 retries, exponential backoff + full jitter, honours Retry-After; unbounded: at once until success or a deadline' })
      .option('fault', { type: 'string', choices: ['restart', 'crash', 'none'], default: 'restart', describe: 'what happens to one gateway in the middle of each storm' })
      .option('redeliver', { type: 'number', describe: "share of acknowledged deliveries sent again 200–1,200 ms after their acknowledgement (the 'soon' schedule)", defaultDescription: '0.1' })
      .option('after-heal', { type: 'number', describe: "share of the keys the faulted gateway acknowledged before the fault sent again once it is back in rotation (the 'after-heal' schedule)", defaultDescription: '0.5' })
      .option('schedule', { type: 'string', array: true, describe: 'a redelivery schedule, <name>=<share>:<heal | uniform(min,max) | exponential(mean,max) | fixed(delay)>, e.g. later=0.2:exponential(5s,60s); repeatable; a schedule of the same name is replaced' })
      .option('aims', { type: 'string', array: true, choices: [...AIMS], describe: 'where each redelivery is sent, each counted on its own: the gateway that acknowledged the key, another replica, the load balancer', defaultDescription: AIMS.join(' ') })
      .option('heal-timeout', { type: 'string', describe: 'how long the after-heal phase waits for the faulted gateway back in rotation', defaultDescription: '60s' })
      .option('bad-token', { type: 'boolean', default: false, describe: 'also: senders with a wrong hook token, each from its own loopback address, until throttled (429)' })
      .option('bad-token-senders', { type: 'number', default: 20, describe: 'senders of the bad-token storm' })
      .option('bad-token-via', {
        choices: ['lb', 'gateways'] as const,
        default: 'lb' as const,
        describe: 'bad-token senders go through the load balancer, or straight to the gateways (sender i to gateway i mod n): a gateway throttles per client address',
      })
      .option('digest-sink-down', { type: 'boolean', default: false, describe: "point the notifier's digest sink at nothing for the storm: its fallback counter must account for every failure" })
      .option('target', { type: 'string', describe: 'target profile YAML (a fault needs allowChaos: true); default the newest running local test bed, or one started for the run' })
      .option('testbed-state', { type: 'string', describe: 'a running local test bed (state dir or id)' })
      .option('out', { type: 'string', describe: 'directory for the reports', defaultDescription: 'reports/runs/<time>-storm' })
      .option('profile', { type: 'string', default: 'smoke', describe: 'smoke or full (storm length, digest window)' })
      .option('journal', { type: 'string', describe: `journal file (default ${journalDir()}/<run>.json)` })
      .check((a) => {
        if (a.senders !== undefined && (!Number.isInteger(a.senders) || a.senders < 1 || a.senders > 10_000)) return '--senders must be an integer 1–10000';
        if (a.deliveries !== undefined && (!Number.isInteger(a.deliveries) || a.deliveries < 1 || a.deliveries > 10_000)) return '--deliveries must be an integer 1–10000';
        for (const k of ['redeliver', 'after-heal'] as const) {
          const v = a[k];
          if (v !== undefined && !(v >= 0 && v <= 1)) return `--${k} must be between 0 and 1`;
        }
        try {
          for (const x of a.schedule ?? []) parseSchedule(x);
          if (a['heal-timeout'] !== undefined) parseDuration(a['heal-timeout']);
        } catch (err) {
          return (err as Error).message;
        }
        return true;
      }) as Argv<StormArgs>,
  handler: async (a) => {
    const intr = interruptible(() => a.journal);
    const startedAt = new Date();
    const opts = defaultStormOptions(a.profile);
    opts.disciplines = a.discipline === 'both' ? ['capped', 'unbounded'] : [a.discipline as Discipline];
    opts.fault = a.fault;
    opts.badToken = a['bad-token'];
    opts.badTokenSenders = a['bad-token-senders'];
    opts.badTokenVia = a['bad-token-via'];
    opts.digestSinkDown = a['digest-sink-down'];
    try {
      const out = await withChaosTarget(
        {
          ...(a.target !== undefined ? { targetFile: a.target } : {}),
          ...(a['testbed-state'] !== undefined ? { testbedStateDir: a['testbed-state'] } : {}),
          what: `webhook storm with fault ${a.fault}`,
          // Load alone is allowed wherever the profile sends traffic; a fault is chaos (and the
          // storm tightens the gateways' admission only where the profile allows chaos).
          chaos: a.fault !== 'none',
          signal: intr.signal,
          log: say,
        },
        async (target) => ({ r: await runStorm(target, withTargetSize(opts, target.profile.storm, a), { signal: intr.signal, log: say, ...(a.journal ? { journalFile: path.resolve(a.journal) } : {}) }), targetName: target.profile.name }),
      );
      for (const d of out.r.results) printDrill(d);
      const { results } = chaosResults({ drills: out.r.results, profile: a.profile, target: out.targetName, startedAt, aborted: out.r.aborted });
      const outDir = path.resolve(a.out ?? path.join('reports', 'runs', `${timeStamp(startedAt)}-storm`));
      const reports = writeChaosReports(outDir, { ...results, events: await recordChaosRun(outDir, { ...results, drills: out.r.results }, 'storm') });
      stdout(`reports: ${reports.json}, ${reports.markdown}, ${reports.junit}, ${reports.html}`);
      indexRun(defaultIndexFile(), reports.results, path.dirname(reports.json), 'storm');
      for (const p of reports.problems) say(`results: repaired before writing: ${p}`);
      stdout(`verdict: ${reports.results.verdict} (exit ${reports.results.exitCode})${reports.results.reasons.length ? ` — ${reports.results.reasons.join('; ')}` : ''}`);
      process.exitCode = reports.results.exitCode;
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (err instanceof ProfileError || err instanceof JournalError || err instanceof ChaosTargetError) throw new CliError(err.message, err.exitCode);
      if (err instanceof RangeError) throw new CliError(err.message, EXIT.usage);
      throw new CliError((err as Error).message, exitCodeForError(err));
    } finally {
      intr.release();
    }
  },
};

/** The target's storm settings (what it can carry, how it is judged) over the defaults, the command line over both. */
function withTargetSize(opts: StormOptions, own: TargetProfile['storm'], a: StormArgs): StormOptions {
  let o = withStormSize(opts, own);
  if (a.senders !== undefined) o.senders = a.senders;
  if (a.deliveries !== undefined) o.deliveries = a.deliveries;
  if (a.redeliver !== undefined) o = withShare(o, SOON, a.redeliver);
  if (a['after-heal'] !== undefined) o = withShare(o, AFTER_HEAL, a['after-heal']);
  for (const text of a.schedule ?? []) {
    const s: RedeliverySchedule = parseSchedule(text);
    o = { ...o, redeliveries: [...o.redeliveries.filter((r) => r.name !== s.name), s] };
  }
  if (a.aims !== undefined) o.aims = [...new Set(a.aims as Aim[])];
  if (a['heal-timeout'] !== undefined) o.healTimeoutMs = parseDuration(a['heal-timeout']);
  return o;
}

export const stormCommand: CommandModule = {
  command: 'storm <kind>',
  describe: 'retry storms against the fleet (storm webhooks)',
  builder: (y: Argv) => y.command(webhooksCommand as unknown as CommandModule).demandCommand(1),
  handler: () => {},
};
