// reports/runs/index.json: one entry per run, appended when the run's reports are written, so a
// nightly job can find its baseline (`last-pass`) and `report trends` can draw runs over time
// without opening every folder. Entries are only appended; retention (`report trends --keep`)
// is the one writer that drops entries, together with the folders it deletes.
//
// Written whole through writeFileAtomic: a reader sees the old index or the new, never half.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const RUN_INDEX_SCHEMA = 'clawstorm.run-index/v1';

export const RunIndexEntrySchema = z.object({
  runId: z.string().min(1),
  /** `gate`, `run`, `drill`, `storm`. */
  kind: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
  endedAt: z.iso.datetime({ offset: true }),
  profile: z.string(),
  target: z.string(),
  verdict: z.enum(['pass', 'fail', 'inconclusive', 'no_data']),
  exitCode: z.number().int(),
  /** The run folder, relative to the index file's folder (absolute when outside it). */
  path: z.string(),
  /** The build under test (CLAWSTORM_BUILD), and the commit CI ran for; null when unknown. */
  build: z.string().nullable(),
  commit: z.string().nullable(),
  /** The run this one was judged against, and whether that judgement found a regression. */
  baselineRunId: z.string().nullable().default(null),
  regression: z.boolean().default(false),
});
export type RunIndexEntry = z.output<typeof RunIndexEntrySchema>;
export type RunIndexEntryInput = z.input<typeof RunIndexEntrySchema>;

export const RunIndexSchema = z.object({ schema: z.literal(RUN_INDEX_SCHEMA), runs: z.array(RunIndexEntrySchema) });
export type RunIndex = z.output<typeof RunIndexSchema>;

export class RunIndexError extends Error {
  readonly exitCode = 2;
}

/** Where runs are indexed unless told otherwise. */
export function defaultIndexFile(cwd = process.cwd()): string {
  return path.resolve(cwd, 'reports', 'runs', 'index.json');
}

export function readIndex(file: string): RunIndex {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schema: RUN_INDEX_SCHEMA, runs: [] };
    throw new RunIndexError(`${file}: cannot read the run index (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RunIndexError(`${file}: not JSON (${(err as Error).message})`);
  }
  const r = RunIndexSchema.safeParse(json);
  if (!r.success) throw new RunIndexError(r.error.issues.slice(0, 5).map((i) => `${file}: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('\n'));
  return r.data;
}

export function writeIndex(file: string, index: RunIndex): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(RunIndexSchema.parse(index), null, 2)}\n`);
}

/** Append one run (its folder given absolute or relative to the cwd). A run already indexed is replaced, not doubled. */
export function appendRun(file: string, entry: RunIndexEntryInput): RunIndexEntry {
  const index = readIndex(file);
  const dir = path.dirname(path.resolve(file));
  const abs = path.resolve(entry.path);
  const rel = path.relative(dir, abs);
  const stored = RunIndexEntrySchema.parse({ ...entry, path: rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel || '.' });
  index.runs = [...index.runs.filter((r) => r.runId !== stored.runId), stored];
  writeIndex(file, index);
  return stored;
}

/** A run's folder as a path usable from the cwd. */
export function runDir(file: string, entry: Pick<RunIndexEntry, 'path'>): string {
  return path.resolve(path.dirname(path.resolve(file)), entry.path);
}

/** The newest run that passed (by start time), optionally of one profile and target. */
export function lastPass(index: RunIndex, filter: { profile?: string; target?: string } = {}): RunIndexEntry | undefined {
  return [...index.runs]
    .filter((r) => r.verdict === 'pass' && (filter.profile === undefined || r.profile === filter.profile) && (filter.target === undefined || r.target === filter.target))
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
    .at(-1);
}

/**
 * The build and commit a run is recorded under: CLAWSTORM_BUILD names the build under test;
 * the commit is CI's (GITHUB_SHA, CI_COMMIT_SHA) or, outside CI, the checkout's HEAD.
 */
export function buildInfo(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { build: string | null; commit: string | null } {
  const build = env.CLAWSTORM_BUILD?.trim() || null;
  let commit = env.GITHUB_SHA?.trim() || env.CI_COMMIT_SHA?.trim() || null;
  if (commit === null) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      commit = null;
    }
  }
  return { build, commit };
}
