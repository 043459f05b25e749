// The "Autoscaling" part of results.md, from the `autoscale` section: what the autoscaler decided
// and when, desired against actual replicas, capacity lag, the avg() over-read, guardrails, missing
// series, and (for a replay compared with a live controller) whether the decisions matched.
import type { AutoscaleSection } from './autoscale-schema.ts';
import { NONE } from './format.ts';
import { separatorRow, tableRow } from './markdown.ts';

/** `+35 s (10:02:05Z)`: offset from the window's start, and the wall time. */
export function at(t: number, from: number): string {
  const iso = new Date(t * 1000).toISOString();
  return `+${Math.round(t - from)} s (${iso.slice(11, 19)}Z)`;
}

function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return NONE;
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

/** Rows where spec, ready or desired replicas changed (the full series is in results.json). */
function replicaChanges(a: AutoscaleSection): AutoscaleSection['series'] {
  return a.series.filter((p, i) => {
    const prev = a.series[i - 1];
    return prev === undefined || prev.replicas !== p.replicas || prev.ready !== p.ready || prev.desired !== p.desired;
  });
}

export function renderAutoscaleMarkdown(a: AutoscaleSection): string[] {
  const from = Date.parse(a.window.from) / 1000;
  const kind = a.source.kind === 'hpa' ? 'HorizontalPodAutoscaler' : 'KEDA ScaledObject';
  const lines: string[] = [
    `- ${a.mode === 'replay' ? 'Replay' : 'Live controller'} of ${kind} \`${a.source.name}\` (${a.source.file}): replicas ${a.source.minReplicas}–${a.source.maxReplicas}, sync every ${a.syncPeriodSeconds} s${a.pollingIntervalSeconds !== null ? `, KEDA polling every ${a.pollingIntervalSeconds} s` : ''}`,
    `- Window ${a.window.from} → ${a.window.to}${a.run ? ` (run ${a.run.id})` : ''}; series from ${a.prometheus}`,
    `- Guardrails: degraded ${a.guardrails.degraded ? `on (${a.guardrails.degradedWindows} windows)` : 'off'} · disk gates ${a.guardrails.disk ? 'on' : 'off'} · canary cap ${a.guardrails.canaryMaxReplicas ?? 'off'}${a.requests ? ` · pod requests ${a.requests.cpu} cores, ${Math.round(a.requests.memory / 2 ** 20)} MiB` : ''}`,
    '',
  ];
  const peak = Math.max(0, ...a.series.map((p) => p.desired ?? 0));
  const peakReady = Math.max(0, ...a.series.map((p) => p.ready));
  lines.push(
    tableRow(['Syncs', 'Decided', 'Scale events', 'Peak desired', 'Peak running', 'Capacity lag', 'Over-read adds', 'Guardrail holds', 'Gaps']),
    separatorRow(9),
    tableRow([
      String(a.syncs),
      String(a.decided),
      String(a.events.length),
      String(peak),
      String(peakReady),
      `${num(a.lag.totalSeconds, 0)} s in ${a.lag.intervals.length} interval(s)`,
      a.overRead.checked.length === 0 ? 'not applicable (no avg() metric)' : `${a.overRead.maxExtraReplicas} replica(s) at most, ${a.overRead.syncsAffected} sync(s)`,
      String(a.guardrailHolds.length),
      String(a.gaps.length),
    ]),
    '',
  );

  lines.push('### Scale events', '');
  if (a.events.length === 0) lines.push('(the autoscaler never changed the replica count)');
  else {
    lines.push(tableRow(['Time', 'From', 'To', 'Reason']), separatorRow(4));
    for (const e of a.events) lines.push(tableRow([at(e.t, from), String(e.from), String(e.to), e.reason]));
  }
  lines.push('', '### Desired and actual replicas', '', 'Rows where a count changed; every sync is in results.json (`autoscale.series`).', '');
  lines.push(tableRow(['Time', 'Spec', 'Running', 'Desired', 'Recommended', 'Load / target']), separatorRow(6));
  for (const p of replicaChanges(a)) {
    const load = Object.entries(p.metrics)
      .map(([k, m]) => `${k} ${num(m.current)}${m.unit} / ${num(m.target)}${m.unit}`)
      .join('; ');
    lines.push(tableRow([at(p.t, from), num(p.replicas), String(p.ready), num(p.desired), num(p.recommendation), load || NONE]));
  }

  lines.push('', '### Capacity lag', '', 'Intervals in which load per replica was above the target while fewer replicas ran than the metrics asked for.', '');
  if (a.lag.intervals.length === 0) lines.push('(none: capacity kept up with the load at every sync)');
  else {
    lines.push(tableRow(['From', 'To', 'Seconds', 'Replicas short (max)', 'Load above target (max)', 'Held back by']), separatorRow(6));
    for (const i of a.lag.intervals) lines.push(tableRow([at(i.from, from), at(i.to, from), num(i.seconds, 0), String(i.maxShortfall), i.maxExcessPct === null ? NONE : `${i.maxExcessPct}%`, i.causes.join(', ') || NONE]));
  }

  lines.push('', '### Scrape-gap over-read of avg()', '');
  if (a.overRead.checked.length === 0) lines.push('No metric or trigger averages over pods with avg(), so a missing scrape cannot over-read here.');
  else {
    for (const c of a.overRead.checked) lines.push(`- \`${c.key}\`: \`${c.query}\` checked against sum ÷ replicas of \`${c.inner}\``);
    lines.push('');
    if (a.overRead.points.length === 0) lines.push('No scrape was missing under an avg(): no over-read.');
    else {
      lines.push(tableRow(['Time', 'Metric', 'Series / replicas', 'Missing', 'avg() read', 'sum ÷ replicas', 'Desired', 'Without over-read', 'Extra replicas']), separatorRow(9));
      for (const p of a.overRead.points) {
        lines.push(tableRow([at(p.t, from), p.key, `${p.present} / ${p.pods}`, p.missing.join(', ') || NONE, num(p.avgPresent), num(p.perReplica), num(p.desired), num(p.correctedDesired), String(p.extraReplicas)]));
      }
    }
  }

  lines.push('', '### Guardrails', '');
  if (a.guardrailHolds.length === 0) lines.push('No guardrail held scaling back.');
  else {
    lines.push(tableRow(['Time', 'Guardrail', 'Wanted', 'Allowed', 'Why']), separatorRow(5));
    for (const h of a.guardrailHolds) lines.push(tableRow([at(h.t, from), h.guardrail, String(h.wanted), String(h.allowed), h.detail]));
  }
  for (const n of a.guardrailNoData) lines.push('', `- No signal for guardrail **${n.guardrail}** at ${n.syncs} sync(s) from ${at(n.first, from)}: it could not hold anything back there (no data, not "all clear").`);

  lines.push('', '### Missing series', '');
  if (a.gaps.length === 0) lines.push('Every query answered with the series it needed at every sync.');
  else {
    lines.push(tableRow(['From', 'To', 'Syncs', 'What', 'Detail']), separatorRow(5));
    for (const g of a.gaps) lines.push(tableRow([at(g.from, from), at(g.to, from), String(g.syncs), g.what, g.detail]));
  }

  if (a.liveDiff !== null) {
    const d = a.liveDiff;
    lines.push('', '### Replay against the live controller', '');
    lines.push(`Compared ${d.compared} sync(s) with ${d.log}: ${d.differing.length === 0 ? '**no difference** in inputs or decisions' : `**${d.differing.length} difference(s)**`}${d.onlyLive.length ? `; ${d.onlyLive.length} live sync(s) without a replay step` : ''}${d.onlyReplay.length ? `; ${d.onlyReplay.length} replay step(s) without a live sync` : ''}.`);
    if (d.differing.length > 0) {
      lines.push('', tableRow(['Time', 'Field', 'Live', 'Replay']), separatorRow(4));
      for (const x of d.differing.slice(0, 50)) lines.push(tableRow([at(x.t, from), x.path, JSON.stringify(x.live) ?? NONE, JSON.stringify(x.replay) ?? NONE]));
    }
  }
  if (a.actuations.length > 0) {
    lines.push('', '### Replicas started and stopped', '', tableRow(['Time', 'Action', 'Gateway', 'Took', 'Outcome']), separatorRow(5));
    for (const x of a.actuations) lines.push(tableRow([at(x.at, from), x.action, x.gateway, `${(x.ms / 1000).toFixed(1)} s`, x.ok ? 'ok' : `failed${x.detail ? `: ${x.detail}` : ''}`]));
  }
  return lines;
}
