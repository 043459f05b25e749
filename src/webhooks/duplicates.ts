// Duplicates, classified by what failed to remember the key. A duplicate is one key that produced
// a second run: a redelivery of an acknowledged key answered with a run the key had not had. The
// process that answered it is compared with the processes that had answered the key before the
// redelivery went out:
//   process  — that very process had answered it: forgotten within one process lifetime
//              (an expired or evicted replay cache);
//   restart  — only an earlier process of the same gateway had: forgotten across a restart;
//   replicas — only other gateways had: replay state not shared across replicas.
// Every redelivery answered, duplicate or not, counts for the class its situation tests: that is
// what makes a class's zero a claim. A class no redelivery tested has no figure (null, no data),
// never 0. Processes that cannot be told (see processes.ts) leave the redelivery unclassified.
import type { GatewayProcess } from './processes.ts';

export type DuplicateClass = 'process' | 'restart' | 'replicas';

export interface DuplicateClassInfo {
  cls: DuplicateClass;
  /** The figure of keys with a duplicate of this class. */
  figure: string;
  /** The figure of redeliveries that tested this class. */
  exercised: string;
  /** For people: what a key of this class suffered. */
  label: string;
  /** Why the class has no figure when nothing tested it. */
  notExercised: string;
}

export const DUPLICATE_CLASSES: readonly DuplicateClassInfo[] = [
  {
    cls: 'restart',
    figure: 'dup_forgotten_across_restart',
    exercised: 'redeliveries_across_restart',
    label: 'forgotten across a restart',
    notExercised: 'not exercised: no redelivery reached a restarted gateway that had acknowledged the key before its restart',
  },
  {
    cls: 'replicas',
    figure: 'dup_not_shared_across_replicas',
    exercised: 'redeliveries_across_replicas',
    label: 'not shared across replicas',
    notExercised: 'not exercised: no redelivery reached a gateway other than those that had acknowledged the key',
  },
  {
    cls: 'process',
    figure: 'dup_within_process',
    exercised: 'redeliveries_same_process',
    label: 'within one process lifetime',
    notExercised: 'not exercised: no redelivery reached the very process that had acknowledged the key',
  },
];

/** One answer (2xx with a runId) for a key, first delivery or redelivery. */
export interface KeyAnswer {
  key: string;
  runId: string;
  /** The process that answered; undefined when it cannot be told. */
  process: GatewayProcess | undefined;
  sentAt: number;
  /** When the answer came back. */
  at: number;
  redelivery: boolean;
}

export interface RunAt {
  runId: string;
  process: GatewayProcess | undefined;
}

export interface DuplicateEvidence {
  key: string;
  cls: DuplicateClass | 'unclassified';
  /** The run the key already had, from the process the class names. */
  first: RunAt;
  /** The second run. */
  second: RunAt;
}

export interface DuplicateReport {
  /** Redeliveries answered, by the situation they tested. */
  exercised: Record<DuplicateClass, number>;
  /** Redeliveries answered whose processes could not be told. */
  unclassifiedRedeliveries: number;
  /** Keys with a second run, by class (a key may be in more than one). */
  keys: Record<DuplicateClass, number>;
  /** Keys with a second run whose processes could not be told. */
  unclassified: number;
  /** Both runs of each duplicate (at most `maxEvidence` per class). */
  evidence: DuplicateEvidence[];
}

const sameProcess = (a: GatewayProcess, b: GatewayProcess) => a.gateway === b.gateway && a.id === b.id;

export function classifyDuplicates(answers: readonly KeyAnswer[], maxEvidence = 20): DuplicateReport {
  const byKey = new Map<string, KeyAnswer[]>();
  for (const a of answers) {
    const xs = byKey.get(a.key) ?? [];
    xs.push(a);
    byKey.set(a.key, xs);
  }
  const exercised: Record<DuplicateClass, number> = { process: 0, restart: 0, replicas: 0 };
  const keySets: Record<DuplicateClass | 'unclassified', Set<string>> = { process: new Set(), restart: new Set(), replicas: new Set(), unclassified: new Set() };
  const evidence: DuplicateEvidence[] = [];
  let unclassifiedRedeliveries = 0;
  for (const [key, xs] of byKey) {
    xs.sort((a, b) => a.at - b.at);
    for (let i = 0; i < xs.length; i++) {
      const a = xs[i]!;
      if (!a.redelivery) continue;
      // What the key had been answered with before this redelivery went out.
      const before = xs.slice(0, i).filter((b) => b.at <= a.sentAt);
      if (before.length === 0) continue;
      const isNewRun = !xs.slice(0, i).some((b) => b.runId === a.runId);
      const q = a.process;
      let cls: DuplicateClass | 'unclassified';
      let earlier: KeyAnswer;
      if (q === undefined || before.some((b) => b.process === undefined)) {
        cls = 'unclassified';
        earlier = before[0]!;
      } else {
        const same = before.find((b) => sameProcess(b.process!, q));
        const sameGateway = before.find((b) => b.process!.gateway === q.gateway);
        cls = same !== undefined ? 'process' : sameGateway !== undefined ? 'restart' : 'replicas';
        earlier = same ?? sameGateway ?? before[0]!;
      }
      if (cls === 'unclassified') unclassifiedRedeliveries += 1;
      else exercised[cls] += 1;
      if (!isNewRun) continue;
      keySets[cls].add(key);
      if (evidence.filter((e) => e.cls === cls).length < maxEvidence) {
        evidence.push({ key, cls, first: { runId: earlier.runId, process: earlier.process }, second: { runId: a.runId, process: a.process } });
      }
    }
  }
  return {
    exercised,
    unclassifiedRedeliveries,
    keys: { process: keySets.process.size, restart: keySets.restart.size, replicas: keySets.replicas.size },
    unclassified: keySets.unclassified.size,
    evidence,
  };
}

/**
 * The report as figures: per class the keys duplicated — null (no data) when no redelivery tested
 * it — and the redeliveries that tested it; `dup_unclassified` is null when nothing was redelivered.
 */
export function duplicateFigures(r: DuplicateReport): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const c of DUPLICATE_CLASSES) {
    out[c.figure] = r.exercised[c.cls] > 0 ? r.keys[c.cls] : null;
    out[c.exercised] = r.exercised[c.cls];
  }
  const redelivered = r.exercised.process + r.exercised.restart + r.exercised.replicas + r.unclassifiedRedeliveries;
  out.dup_unclassified = redelivered > 0 ? r.unclassified : null;
  out.redeliveries_unclassified = r.unclassifiedRedeliveries;
  return out;
}

/** One line per duplicate: the key, both run ids and the processes that started them. */
export function describeEvidence(e: DuplicateEvidence): string {
  const at = (r: RunAt) => `${r.runId} (${r.process === undefined ? 'process unknown' : r.process.id})`;
  return `${e.key}: ${at(e.first)} then ${at(e.second)}`;
}
