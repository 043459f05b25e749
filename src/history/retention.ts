// `report trends --keep N`: the newest N runs stay, and so does every baseline — the run the
// next one will be judged against and every run a kept run was judged against — so pruning
// never leaves a nightly job without its reference. Older run folders are deleted with their
// index entries; a folder outside the index's own folder is never deleted, only unlisted.
import fs from 'node:fs';
import path from 'node:path';
import { lastPass, readIndex, runDir, writeIndex, type RunIndexEntry } from './run-index.ts';
import { currentBaseline } from './trends.ts';

export interface Retention {
  kept: RunIndexEntry[];
  removed: { entry: RunIndexEntry; folderDeleted: boolean }[];
  /** Kept beyond the newest N because they are baselines. */
  keptAsBaseline: string[];
}

export function applyRetention(indexFile: string, keep: number): Retention {
  if (!(Number.isInteger(keep) && keep >= 1)) throw new RangeError(`--keep must be a whole number of runs ≥ 1, got ${keep}`);
  const index = readIndex(indexFile);
  const sorted = [...index.runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const newest = new Set(sorted.slice(-keep).map((r) => r.runId));
  const baselines = new Set<string>();
  const current = currentBaseline(index);
  if (current !== null) baselines.add(current.entry.runId);
  for (const r of sorted) if (newest.has(r.runId) && r.baselineRunId !== null) baselines.add(r.baselineRunId);
  // last-pass of every profile and target still indexed: what the next run of each would use.
  for (const r of sorted) {
    const p = lastPass(index, { profile: r.profile, target: r.target });
    if (p !== undefined) baselines.add(p.runId);
  }
  const keptAsBaseline = [...baselines].filter((id) => !newest.has(id) && sorted.some((r) => r.runId === id));
  const kept = sorted.filter((r) => newest.has(r.runId) || baselines.has(r.runId));
  const root = path.dirname(path.resolve(indexFile));
  const removed = sorted
    .filter((r) => !kept.includes(r))
    .map((entry) => {
      const dir = runDir(indexFile, entry);
      const rel = path.relative(root, dir);
      const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
      if (inside) fs.rmSync(dir, { recursive: true, force: true });
      return { entry, folderDeleted: inside };
    });
  writeIndex(indexFile, { ...index, runs: kept });
  return { kept, removed, keptAsBaseline };
}
