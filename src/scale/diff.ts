// Live against replay, sync by sync: the live controller's recorded inputs and decisions beside the
// replay's for the same times. Same code and same inputs must give the same decisions; where they do
// not, the first differing field says whether the inputs differed (and in which Prometheus answer)
// or the decision did.

export interface Recorded {
  time: number;
  answers?: Readonly<Record<string, unknown>>;
  input: unknown;
  decision: unknown;
}

export interface DiffEntry {
  time: number;
  /** `input.metrics.pods/x.perPod.gw-2`, `decision.desiredReplicas`, `answers.<query>` … */
  path: string;
  live: unknown;
  replay: unknown;
}

export interface DecisionDiff {
  /** Times both sides have. */
  compared: number;
  /** Live syncs inside the replay window that the replay has no step for, and the reverse. */
  onlyLive: number[];
  onlyReplay: number[];
  differing: DiffEntry[];
}

/** The first path at which two JSON values differ, or null when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): { path: string; a: unknown; b: unknown } | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return { path, a, b };
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
    const d = firstDifference(ra[k], rb[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

/** JSON round trip: what was written to a log reads back the same as what is compared in memory. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

export function diffDecisions(live: readonly Recorded[], replayed: readonly Recorded[], window?: { from: number; to: number }): DecisionDiff {
  const inWindow = (t: number) => window === undefined || (t >= window.from && t <= window.to);
  const byTime = new Map(replayed.map((r) => [r.time, r]));
  const liveTimes = new Set(live.map((r) => r.time));
  const differing: DiffEntry[] = [];
  const onlyLive: number[] = [];
  let compared = 0;
  for (const l of live) {
    if (!inWindow(l.time)) continue;
    const r = byTime.get(l.time);
    if (r === undefined) {
      onlyLive.push(l.time);
      continue;
    }
    compared++;
    // Inputs first: a differing input explains a differing decision; its answers say why.
    const d =
      firstDifference(plain(l.input), plain(r.input), 'input') ??
      firstDifference(plain(l.decision), plain(r.decision), 'decision');
    if (d !== null) {
      const answers = l.answers !== undefined && r.answers !== undefined ? firstDifference(plain(l.answers), plain(r.answers), 'answers') : null;
      differing.push({ time: l.time, path: d.path, live: d.a, replay: d.b });
      if (answers !== null) differing.push({ time: l.time, path: answers.path, live: answers.a, replay: answers.b });
    }
  }
  const onlyReplay = replayed.filter((r) => inWindow(r.time) && !liveTimes.has(r.time)).map((r) => r.time);
  return { compared, onlyLive, onlyReplay, differing };
}
