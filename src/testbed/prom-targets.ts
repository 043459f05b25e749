// Which gateways, sidecars and autoscaler a bed's Prometheus scrapes: JSON target files that
// Prometheus watches (file-based service discovery), one per job under `<state>/prometheus/targets/`.
// Each gateway and sidecar target carries its own `gateway` and `az` labels from the file, so every
// series can be told apart by replica from its first sample; a replica added or removed while the
// bed runs becomes (or stops being) a target without a restart or a reload. Files are replaced
// atomically, as Prometheus's file watcher expects.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** Jobs whose targets come from files. */
export const FILE_SD_JOBS = ['gateway', 'policy', 'autoscaler'] as const;
export type FileSdJob = (typeof FILE_SD_JOBS)[number];

/** How often Prometheus re-reads the files besides watching them. */
export const FILE_SD_REFRESH = '5s';

/** Where a scrape goes while it is blocked on purpose: a path the gateway does not serve (404). */
export const BLOCKED_METRICS_PATH = '/metrics-scrape-blocked';

const GroupSchema = z.object({ targets: z.array(z.string()), labels: z.record(z.string(), z.string()).default({}) });
export type TargetGroup = z.output<typeof GroupSchema>;

export interface LabelledTarget {
  target: string;
  labels: Record<string, string>;
}

export function targetsDir(stateDir: string): string {
  return path.join(stateDir, 'prometheus', 'targets');
}

export function targetsFile(stateDir: string, job: FileSdJob): string {
  return path.join(targetsDir(stateDir), `${job}.json`);
}

export function readTargets(stateDir: string, job: FileSdJob): TargetGroup[] {
  const file = targetsFile(stateDir, job);
  if (!fs.existsSync(file)) return [];
  return z.array(GroupSchema).parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

export function writeTargets(stateDir: string, job: FileSdJob, groups: readonly TargetGroup[]): void {
  fs.mkdirSync(targetsDir(stateDir), { recursive: true, mode: 0o700 });
  writeFileAtomic(targetsFile(stateDir, job), `${JSON.stringify(groups, null, 2)}\n`, { mode: 0o600 });
}

/** One group per target (each with its own labels), in the order given. */
export function groupsOf(targets: readonly LabelledTarget[]): TargetGroup[] {
  return targets.map((t) => ({ targets: [t.target], labels: { ...t.labels } }));
}

/** Add a target, or replace the group that scrapes the same address. */
export function addTarget(stateDir: string, job: FileSdJob, t: LabelledTarget): void {
  const groups = readTargets(stateDir, job).filter((g) => !g.targets.includes(t.target));
  writeTargets(stateDir, job, [...groups, { targets: [t.target], labels: { ...t.labels } }]);
}

/** Remove every group whose `gateway` label is this gateway; returns how many went. */
export function removeTargetsOf(stateDir: string, job: FileSdJob, gateway: string): number {
  const groups = readTargets(stateDir, job);
  const kept = groups.filter((g) => g.labels.gateway !== gateway);
  if (kept.length !== groups.length) writeTargets(stateDir, job, kept);
  return groups.length - kept.length;
}

/**
 * Make Prometheus's scrapes of one gateway fail (or work again) while the gateway keeps serving:
 * its target is pointed at a metrics path it does not serve, so `up` is 0 and its series go stale,
 * exactly what a scrape lost to a network policy or a timeout looks like. The target's labels stay.
 */
export function blockScrape(stateDir: string, gateway: string, blocked: boolean): void {
  const groups = readTargets(stateDir, 'gateway');
  const mine = groups.filter((g) => g.labels.gateway === gateway);
  if (mine.length === 0) throw new Error(`no gateway target labelled gateway=${JSON.stringify(gateway)} in ${targetsFile(stateDir, 'gateway')}`);
  for (const g of mine) {
    if (blocked) g.labels.__metrics_path__ = BLOCKED_METRICS_PATH;
    else delete g.labels.__metrics_path__;
  }
  writeTargets(stateDir, 'gateway', groups);
}
