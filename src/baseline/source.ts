// Where a baseline comes from: a results.json, a run folder holding one, or `last-pass` — the
// newest passing run in the run index (of the same profile and target, so a smoke run is never
// judged against a full one).
import fs from 'node:fs';
import path from 'node:path';
import { lastPass, readIndex, runDir } from '../history/run-index.ts';
import { readResults, ResultsError, type Results } from '../report/results.ts';

export const LAST_PASS = 'last-pass';

export interface BaselineFound {
  requested: string;
  file: string;
  results: Results;
}

export interface BaselineMissing {
  requested: string;
  file: null;
  results: null;
  /** Why there is none: no index yet, no passing run of this profile and target. */
  note: string;
}

/** A results.json path from a file or a run folder; throws ResultsError (exit 2) when neither. */
export function resultsFileOf(spec: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(spec);
  } catch {
    throw new ResultsError(`${spec}: no such results file or run folder`);
  }
  const file = stat.isDirectory() ? path.join(spec, 'results.json') : spec;
  if (!fs.existsSync(file)) throw new ResultsError(`${spec}: a run folder without results.json`);
  return path.resolve(file);
}

export function loadRun(spec: string): { file: string; results: Results } {
  const file = resultsFileOf(spec);
  return { file, results: readResults(file) };
}

/** Resolve `--baseline`. A missing file or folder is a usage error; `last-pass` with nothing to find is not. */
export function resolveBaseline(spec: string, opts: { indexFile: string; profile: string; target: string }): BaselineFound | BaselineMissing {
  if (spec !== LAST_PASS) return { requested: spec, ...loadRun(spec) };
  const index = readIndex(opts.indexFile);
  const entry = lastPass(index, { profile: opts.profile, target: opts.target });
  if (entry === undefined) {
    const note = index.runs.length === 0 ? `no run indexed yet in ${opts.indexFile}` : `no passing ${opts.profile} run against ${opts.target} in ${opts.indexFile}`;
    return { requested: spec, file: null, results: null, note };
  }
  return { requested: spec, ...loadRun(runDir(opts.indexFile, entry)) };
}
