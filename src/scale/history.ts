// The replica history of a bed with an autoscaler, for `testbed status`: every scale decision (with
// its reason) and every replica started or stopped (with how long it took), oldest first.
import fs from 'node:fs';
import { logFileOf, readLog } from './log.ts';

export interface HistoryEvent {
  /** Unix seconds. */
  t: number;
  at: string;
  kind: 'scale' | 'start' | 'stop';
  text: string;
}

export interface ReplicaHistory {
  source: string;
  file: string;
  syncPeriodSeconds: number;
  settleSeconds: number;
  syncs: number;
  /** Syncs that could not decide (no replica count, or Prometheus did not answer). */
  undecided: number;
  /** The replica count the last decision asked for. */
  current: number | null;
  events: HistoryEvent[];
}

const hhmmss = (t: number) => `${new Date(t * 1000).toISOString().slice(11, 19)}Z`;

/** null when the bed has no autoscaler log. */
export function replicaHistory(stateDir: string, limit = 60): ReplicaHistory | null {
  const file = logFileOf(stateDir);
  if (!fs.existsSync(file)) return null;
  const log = readLog(file);
  if (log.header === null) return null;
  const events: HistoryEvent[] = [];
  for (const s of log.syncs) {
    const d = s.decision;
    if (d !== null && d.desiredReplicas !== d.currentReplicas) events.push({ t: s.time, at: hhmmss(s.time), kind: 'scale', text: d.reason });
  }
  for (const a of log.actuations) {
    events.push({ t: a.at, at: hhmmss(a.at), kind: a.action, text: `${a.action === 'start' ? 'started' : 'stopped'} ${a.gateway} in ${(a.ms / 1000).toFixed(1)} s${a.ok ? '' : ' — FAILED'}${a.detail ? `: ${a.detail}` : ''}` });
  }
  events.sort((a, b) => a.t - b.t);
  const decided = log.syncs.filter((s) => s.decision !== null);
  return {
    source: `${log.header.source === 'hpa' ? 'HPA' : 'ScaledObject'} ${log.header.name}`,
    file: log.header.file,
    syncPeriodSeconds: log.header.syncPeriodSeconds,
    settleSeconds: log.header.settleSeconds,
    syncs: log.syncs.length,
    undecided: log.syncs.length - decided.length,
    current: decided[decided.length - 1]?.decision?.desiredReplicas ?? null,
    events: events.slice(-limit),
  };
}
