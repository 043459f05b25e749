// clawstorm compare BASE NEW: judge one stored run against another, scenario by scenario, and
// print the change, the judge's verdict and the evidence. Exit 1 on a regression, 3 when nothing
// could be compared (or only part of it), 0 otherwise.
import type { Argv, CommandModule } from 'yargs';
import { compareRuns, ranScenarios } from '../baseline/compare.ts';
import { comparisonSection } from '../baseline/section.ts';
import { loadRun } from '../baseline/source.ts';
import type { BaselineRulesInput } from '../baseline/rules.ts';
import { loadTargetProfile } from '../config/profile.ts';
import { ProfileError } from '../config/errors.ts';
import { BaselineSectionSchema } from '../report/baseline-schema.ts';
import { BASELINE_HEADER, baselineHeadline, baselineRows, evidenceLines, regressionCount } from '../report/baseline-cells.ts';
import { separatorRow, tableRow } from '../report/markdown.ts';
import { ResultsError } from '../report/results.ts';
import { statusOfVerdict } from '../score/status.ts';
import { exitCodeFor as exitCodeOfVerdict } from '../score/verdict.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { CliError, EXIT } from './errors.ts';
import { stdout } from './output.ts';

interface CompareArgs {
  base: string;
  next: string;
  target?: string;
  percentiles?: number[];
  'max-increase-pct'?: number;
  confidence?: number;
  json?: string;
}

function rulesFrom(a: CompareArgs): BaselineRulesInput {
  let rules: BaselineRulesInput = {};
  if (a.target !== undefined) rules = structuredClone(loadTargetProfile(a.target).baseline ?? {});
  const latency = { ...(rules.latency ?? {}) };
  if (a.percentiles !== undefined) latency.percentiles = a.percentiles;
  if (a['max-increase-pct'] !== undefined) latency.maxIncreasePct = a['max-increase-pct'];
  return { ...rules, latency, ...(a.confidence !== undefined ? { confidence: a.confidence } : {}) };
}

function handler(a: CompareArgs): void {
  let section;
  let note: string | undefined;
  try {
    const base = loadRun(a.base);
    const next = loadRun(a.next);
    const comparison = compareRuns(ranScenarios(base.results), ranScenarios(next.results), rulesFrom(a));
    // Allowed (a smoke run against yesterday's full one can still be read), but never silently.
    if (base.results.profile !== next.results.profile || base.results.target !== next.results.target) {
      note = `Note: the runs differ — baseline ${base.results.profile} against ${base.results.target}, new ${next.results.profile} against ${next.results.target}.`;
    }
    section = BaselineSectionSchema.parse(comparisonSection(comparison, { requested: a.base, file: base.file, startedAt: base.results.startedAt }));
  } catch (err) {
    if (err instanceof ResultsError || err instanceof ProfileError || (err as Error).name === 'JudgeConfigError') throw new CliError((err as Error).message, EXIT.usage);
    throw err;
  }
  const n = regressionCount(section);
  stdout(`# ${a.next} against baseline ${section.runId}: ${statusOfVerdict(section.verdict)}${n > 0 ? ` (${n} regression${n === 1 ? '' : 's'})` : ''}`);
  stdout('');
  stdout(baselineHeadline(section));
  if (note !== undefined) stdout(note);
  stdout('');
  for (const line of [tableRow(BASELINE_HEADER), separatorRow(BASELINE_HEADER.length), ...baselineRows(section).map(tableRow)]) stdout(line);
  stdout('');
  // Every metric's evidence, not only the failed ones: a pass is a claim too.
  for (const e of evidenceLines(section, true)) stdout(`- ${e}`);
  if (a.json !== undefined) writeFileAtomic(a.json, `${JSON.stringify(section, null, 2)}\n`);
  process.exitCode = exitCodeOfVerdict(section.verdict);
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <base> <next>',
  describe: 'judge run NEXT against run BASE (results.json files or run folders): per scenario and metric the change, the judge’s verdict and its evidence; exit 1 on a regression, 3 when something could not be compared',
  builder: (y: Argv) =>
    y
      .positional('base', { type: 'string', demandOption: true, describe: 'the baseline: results.json or a run folder' })
      .positional('next', { type: 'string', demandOption: true, describe: 'the run to judge: results.json or a run folder' })
      .option('target', { type: 'string', describe: 'target profile whose `baseline:` rules apply (default: the plan’s canary rule)' })
      .option('percentiles', { type: 'number', array: true, describe: 'latency percentiles to compare', defaultDescription: '99' })
      .option('max-increase-pct', { type: 'number', describe: 'a percentile may grow by this much before it can fail', defaultDescription: '15' })
      .option('confidence', { type: 'number', describe: 'confidence of the tests (0–1)', defaultDescription: '0.98' })
      .option('json', { type: 'string', describe: 'also write the comparison (the results.json baseline section) to this file' }) as Argv<CompareArgs>,
  handler,
};
