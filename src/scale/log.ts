// The live autoscaler's record, one JSON object per line under the bed's state dir
// (`autoscale/log.jsonl`): a header (what it runs and how), one `sync` line per evaluation time with
// the Prometheus answers, the SyncInput built from them and the decision, and one `actuation` line
// per replica started or stopped. `testbed status` reads the replica history from it, and a replay
// compares itself with it decision by decision.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const AUTOSCALE_DIR = 'autoscale';
export const LOG_FILE = 'log.jsonl';

export function logFileOf(stateDir: string): string {
  return path.join(stateDir, AUTOSCALE_DIR, LOG_FILE);
}

const Header = z.looseObject({
  kind: z.literal('header'),
  startedAt: z.string(),
  file: z.string(),
  source: z.enum(['hpa', 'keda']),
  name: z.string(),
  syncPeriodSeconds: z.number(),
  settleSeconds: z.number(),
  minReplicas: z.number(),
  maxReplicas: z.number(),
  plan: z.unknown(),
  controller: z.unknown(),
});

const Sync = z.looseObject({
  kind: z.literal('sync'),
  time: z.number(),
  /** When the read happened (unix seconds): how far behind the grid the loop ran. */
  readAt: z.number(),
  answers: z.record(z.string(), z.unknown()),
  input: z.unknown(),
  decision: z.looseObject({ time: z.number(), currentReplicas: z.number(), desiredReplicas: z.number(), reason: z.string(), conditions: z.array(z.string()) }).nullable(),
  gaps: z.array(z.object({ what: z.string(), detail: z.string() })).default([]),
});

const Actuation = z.looseObject({
  kind: z.literal('actuation'),
  at: z.number(),
  action: z.enum(['start', 'stop']),
  gateway: z.string(),
  ok: z.boolean(),
  ms: z.number(),
  detail: z.string().optional(),
});

const Line = z.discriminatedUnion('kind', [Header, Sync, Actuation]);
export type LogHeader = z.output<typeof Header>;
export type LogSync = z.output<typeof Sync>;
export type LogActuation = z.output<typeof Actuation>;

export interface AutoscaleLog {
  header: LogHeader | null;
  syncs: LogSync[];
  actuations: LogActuation[];
  /** Lines that did not parse (a torn last line while the loop writes). */
  skipped: number;
}

export function readLog(file: string): AutoscaleLog {
  const text = fs.readFileSync(file, 'utf8');
  const out: AutoscaleLog = { header: null, syncs: [], actuations: [], skipped: 0 };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed;
    try {
      parsed = Line.safeParse(JSON.parse(line));
    } catch {
      out.skipped++;
      continue;
    }
    if (!parsed.success) {
      out.skipped++;
      continue;
    }
    const v = parsed.data;
    if (v.kind === 'header') out.header = v;
    else if (v.kind === 'sync') out.syncs.push(v);
    else out.actuations.push(v);
  }
  return out;
}

export function appendLog(file: string, line: Record<string, unknown> & { kind: 'header' | 'sync' | 'actuation' }): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
}
