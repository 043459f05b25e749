// Where a key answered with two runs was answered: by another gateway (replay state is per
// replica) or by the same one (it lost its replay state, e.g. restarted).

export interface DuplicateAttribution {
  duplicated_keys_other_gateway: number | null;
  duplicated_keys_same_gateway: number | null;
}

/** Null when the load balancer did not say which gateway answered. */
export function duplicateAttribution(acks: ReadonlyArray<{ key: string; runId: string; server?: string }>): DuplicateAttribution {
  if (acks.length === 0 || acks.some((a) => a.server === undefined)) return { duplicated_keys_other_gateway: null, duplicated_keys_same_gateway: null };
  const byKey = new Map<string, Map<string, string>>();
  for (const a of acks) {
    const runs = byKey.get(a.key) ?? new Map<string, string>();
    runs.set(a.runId, a.server!);
    byKey.set(a.key, runs);
  }
  let other = 0;
  let same = 0;
  for (const runs of byKey.values()) {
    if (runs.size < 2) continue;
    if (new Set(runs.values()).size > 1) other += 1;
    else same += 1;
  }
  return { duplicated_keys_other_gateway: other, duplicated_keys_same_gateway: same };
}
