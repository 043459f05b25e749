// clawstorm report trends: trends.html and trends.md over the indexed runs; --keep prunes old
// runs first (never a baseline).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { applyRetention } from '../history/retention.ts';
import { readIndex, RunIndexError } from '../history/run-index.ts';
import { writeTrends } from '../history/trends.ts';
import { CliError, EXIT } from './errors.ts';
import { say, stdout } from './output.ts';

interface TrendsArgs {
  index: string;
  out?: string;
  last?: number;
  keep?: number;
}

function handler(a: TrendsArgs): void {
  const indexFile = path.resolve(a.index);
  const outDir = path.resolve(a.out ?? path.dirname(indexFile));
  try {
    if (a.keep !== undefined) {
      const r = applyRetention(indexFile, a.keep);
      say(`retention: kept ${r.kept.length} run(s)${r.keptAsBaseline.length ? ` (${r.keptAsBaseline.join(', ')} as baseline)` : ''}, removed ${r.removed.length}`);
      for (const x of r.removed) if (!x.folderDeleted) say(`retention: ${x.entry.runId}: folder ${x.entry.path} is outside ${path.dirname(indexFile)}; unlisted, not deleted`);
    }
    const index = readIndex(indexFile);
    if (index.runs.length === 0) throw new CliError(`${indexFile}: no runs indexed (a gate run appends itself; see --index)`, EXIT.inconclusive);
    const { html, md, trends } = writeTrends(indexFile, outDir, a.last !== undefined ? { last: a.last } : {});
    for (const r of trends.runs) if (r.missing) say(`trends: ${r.runId}: ${r.missing}`);
    stdout(`trends: ${html}, ${md} (${trends.runs.length} runs, ${trends.scenarios.length} scenarios${trends.baseline ? `, baseline ${trends.baseline.runId}` : ''})`);
    process.exitCode = EXIT.ok;
  } catch (err) {
    if (err instanceof RunIndexError || err instanceof RangeError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export const trendsCommand: CommandModule<object, TrendsArgs> = {
  command: 'trends',
  describe: 'trends.html (P50/P95/P99, error rate, throughput per scenario over the indexed runs; failed gates, regressions and the baseline marked) and trends.md for a CI job page',
  builder: (y: Argv) =>
    y
      .option('index', { type: 'string', default: 'reports/runs/index.json', describe: 'the run index' })
      .option('out', { type: 'string', describe: 'folder for trends.html and trends.md', defaultDescription: "the index's folder" })
      .option('last', { type: 'number', describe: 'only the newest N runs' })
      .option('keep', { type: 'number', describe: 'first delete all but the newest N runs (folders and index entries); a baseline is always kept' }) as Argv<TrendsArgs>,
  handler,
};
