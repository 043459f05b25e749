// clawstorm drill <name> | drill rollback | drill list
import { say, stdout } from './output.ts';
import { indexRun } from '../history/record.ts';
import { recordChaosRun } from '../events/chaos-run.ts';
import { defaultIndexFile } from '../history/run-index.ts';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ProfileError } from '../config/errors.ts';
import { chaosResults, runDrills, writeChaosReports } from '../chaos/run.ts';
import { journalDir, JournalError } from '../faults/journal.ts';
import { rollbackJournals } from '../faults/rollback.ts';
import { listDrills, resolveDrill, type OptionValue } from '../chaos/schema.ts';
import { ChaosTargetError, withChaosTarget } from '../target/target.ts';
import type { DrillResult } from '../chaos/engine.ts';
import { drillLine, thresholdLine } from '../report/console.ts';
import { exitCodeForError } from '../score/verdict.ts';
import { CliError, EXIT } from './errors.ts';
import { timeStamp } from '../util/ids.ts';


function defaultOutDir(kind: string): string {
  return path.resolve('reports', 'runs', `${timeStamp()}-${kind}`);
}

/** `--set a=1 --set b=x` → {a: '1', b: 'x'}. */
export function parseSets(sets: readonly string[] | undefined): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const s of sets ?? []) {
    const i = s.indexOf('=');
    if (i <= 0) throw new CliError(`clawstorm drill: --set ${JSON.stringify(s)}: expected name=value`, EXIT.usage);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/**
 * First SIGINT/SIGTERM/SIGHUP aborts (the drill stops its load, rolls back, writes a partial report);
 * a second one exits at once and names the journal for `clawstorm drill rollback`.
 */
export function interruptible(journal: () => string | undefined): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController();
  let n = 0;
  const on = (sig: string) => {
    n += 1;
    if (n > 1) {
      const j = journal();
      say(`clawstorm: second ${sig}: exiting now${j ? `; finish the rollback with: clawstorm drill rollback --journal ${j}` : ''}`);
      process.exit(130);
    }
    say(`clawstorm: ${sig}: stopping the load, rolling back every fault, writing a partial report (again to exit at once)`);
    ac.abort();
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  const onHup = () => on('SIGHUP');
  // A closed log pipe (`… | head`) must not kill the harness in the middle of a rollback.
  const onPipe = () => {};
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  process.stderr.on('error', onPipe);
  return {
    signal: ac.signal,
    release: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      process.stderr.off('error', onPipe);
    },
  };
}

/** What a drill or storm found, on stdout (so `> file` keeps it; progress and logs go to stderr). */
export function printDrill(d: DrillResult): void {
  stdout(drillLine(d));
  const figs = Object.entries(d.figures ?? {}).filter(([k]) => !k.startsWith('opt_'));
  if (figs.length > 0) stdout(`  figures: ${figs.map(([k, v]) => `${k} ${v === null ? `no data${d.noData?.[k] ? ` (${d.noData[k]})` : ''}` : String(v)}`).join(', ')}`);
  for (const t of d.thresholds ?? []) stdout(thresholdLine(t));
}

function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ProfileError || err instanceof JournalError || err instanceof ChaosTargetError) return new CliError(err.message, err.exitCode);
  return new CliError((err as Error).message, exitCodeForError(err));
}

interface DrillArgs {
  name: string;
  target?: string;
  'testbed-state'?: string;
  out?: string;
  mode?: string;
  profile: string;
  set?: string[];
  journal?: string;
}

const runCommand: CommandModule<object, DrillArgs> = {
  command: '$0 <name>',
  describe: 'run a drill (scenarios/drills/<name>.yaml); exit 0 pass · 1 fail · 2 usage/config · 3 no data or aborted',
  builder: (y: Argv) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: `drill name or YAML file (${listDrills().join(', ')})` })
      .option('target', { type: 'string', describe: 'target profile YAML (must set allowChaos: true); default the newest running local test bed, or one started for the run' })
      .option('testbed-state', { type: 'string', describe: 'a running local test bed (state dir or id)' })
      .option('out', { type: 'string', describe: 'directory for results.json, results.md, junit.xml, report.html', defaultDescription: 'reports/runs/<time>-drill' })
      .option('mode', { type: 'string', choices: ['crash', 'drain', 'hang'], describe: 'how a gateway is taken out (drills with a mode option)' })
      .option('profile', { type: 'string', default: 'smoke', describe: 'durations and rates: smoke or full (pass criteria are the same)' })
      .option('set', { type: 'string', array: true, describe: 'drill option name=value (repeatable), e.g. --set victim=gw-2' })
      .option('journal', { type: 'string', describe: `journal file (default ${journalDir()}/<run>.json)` }) as Argv<DrillArgs>,
  handler: async (a) => {
    const set = parseSets(a.set);
    if (a.mode !== undefined) set.mode = a.mode;
    let journal: string | undefined;
    const intr = interruptible(() => journal);
    const startedAt = new Date();
    try {
      // Validate the file (and options) before anything starts.
      resolveDrill(a.name, { profile: a.profile, set });
      const out = await withChaosTarget(
        {
          ...(a.target !== undefined ? { targetFile: a.target } : {}),
          ...(a['testbed-state'] !== undefined ? { testbedStateDir: a['testbed-state'] } : {}),
          what: `drill ${a.name}`,
          chaos: true,
          signal: intr.signal,
          log: say,
        },
        async (target) => {
          const r = await runDrills({
            drills: [a.name],
            profile: a.profile,
            set,
            target,
            signal: intr.signal,
            log: say,
            ...(a.journal !== undefined ? { journalFile: path.resolve(a.journal) } : {}),
            onJournal: (f) => {
              journal = f;
              say(`journal: ${f}`);
            },
          });
          return { ...r, targetName: target.profile.name };
        },
      );
      for (const d of out.results) printDrill(d);
      const { results } = chaosResults({ drills: out.results, profile: a.profile, target: out.targetName, startedAt, aborted: out.aborted });
      const outDir = path.resolve(a.out ?? defaultOutDir('drill'));
      const reports = writeChaosReports(outDir, { ...results, events: await recordChaosRun(outDir, { ...results, drills: out.results }, 'drill') });
      stdout(`reports: ${reports.json}, ${reports.markdown}, ${reports.junit}, ${reports.html}`);
      indexRun(defaultIndexFile(), reports.results, path.dirname(reports.json), 'drill');
      for (const p of reports.problems) say(`results: repaired before writing: ${p}`);
      stdout(`verdict: ${reports.results.verdict} (exit ${reports.results.exitCode})${reports.results.reasons.length ? ` — ${reports.results.reasons.join('; ')}` : ''}`);
      process.exitCode = reports.results.exitCode;
    } catch (err) {
      throw asCliError(err);
    } finally {
      intr.release();
    }
  },
};

const rollbackCommand: CommandModule<object, { journal?: string; force: boolean }> = {
  command: 'rollback',
  describe: `undo what a killed drill left behind (the given journal, or every unfinished one in ${journalDir()})`,
  builder: (y: Argv) =>
    y
      .option('journal', { type: 'string', describe: 'journal file of the drill' })
      .option('force', { type: 'boolean', default: false, describe: 'roll back even though the drill that wrote the journal still runs' }) as Argv<{ journal?: string; force: boolean }>,
  handler: async (a) => {
    try {
      const outs = await rollbackJournals({ ...(a.journal !== undefined ? { journal: path.resolve(a.journal) } : {}), log: say, force: a.force });
      const failed = outs.filter((o) => !o.ok);
      for (const o of outs) say(`${o.drill}: ${o.undone.length} undone, ${o.failed.length} failed, ${o.skipped.length} skipped (${o.journal})`);
      process.exitCode = failed.length > 0 ? EXIT.inconclusive : EXIT.ok;
    } catch (err) {
      throw asCliError(err);
    }
  },
};

const listCommand: CommandModule = {
  command: 'list',
  describe: 'list the drills and their options',
  handler: () => {
    for (const n of listDrills()) {
      try {
        const d = resolveDrill(n);
        stdout(`${n}\t${d.title}\t${Object.entries(d.options).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
      } catch (err) {
        stdout(`${n}\t(invalid: ${(err as Error).message.split('\n')[0]})`);
      }
    }
  },
};

export const drillCommand: CommandModule = {
  command: 'drill',
  describe: 'chaos drills: gateway-pair, token-rotation, disk-watermark (rollbacks always run); drill rollback; drill list',
  builder: (y: Argv) =>
    y
      .command(rollbackCommand as unknown as CommandModule)
      .command(listCommand)
      .command(runCommand as unknown as CommandModule),
  handler: () => {},
};
