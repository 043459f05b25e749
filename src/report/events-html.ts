// The run's event timeline in report.html, from events.ndjson in the run folder: the lifecycle
// events on the run's clock (drawn like a drill's timeline: faults red, roll-backs green), the
// events as a table, how many per-window measurements were recorded, and what a Faro receiver
// took and dropped.
import type { EventLine } from '../events/ndjson.ts';
import { timelineChart } from './charts.ts';
import { DrillResultSchema, type Results } from './results.ts';
import { esc } from './svg.ts';

/** Attributes every event carries; the table leaves them out. */
const COMMON = new Set(['runId', 'profile', 'target']);

type Ev = Extract<EventLine, { type: 'event' }>['payload'];

function kindOf(name: string): string {
  if (name === 'fault_injected') return 'fault';
  if (name === 'fault_rolled_back') return 'recover';
  if (name === 'verdict') return 'measure';
  return 'phase';
}

function labelOf(e: Ev): string {
  const a = Object.entries(e.attributes ?? {}).filter(([k]) => !COMMON.has(k));
  const label = a.find(([k]) => k === 'label')?.[1];
  const rest = a.filter(([k]) => k !== 'label' && k !== 'kind' && k !== 't_s').map(([k, v]) => `${k}=${v}`);
  return [e.name, label, rest.join(' ')].filter((x) => x !== undefined && x !== '').join(' · ');
}

export function eventsSection(r: Pick<Results, 'startedAt' | 'events'>, lines: readonly EventLine[] | undefined): string {
  if (lines === undefined && r.events === undefined) return '';
  const parts = ['<h2>Run events</h2>'];
  const events = (lines ?? []).filter((l): l is Extract<EventLine, { type: 'event' }> => l.type === 'event').map((l) => l.payload);
  const measurements = (lines ?? []).filter((l) => l.type === 'measurement').length;
  const t0 = Date.parse(r.startedAt);
  if (events.length > 0) {
    const timeline = DrillResultSchema.parse({
      name: 'run-events',
      title: 'Run events',
      status: 'Pass',
      startedAt: r.startedAt,
      events: events.map((e) => ({ t: Math.max(0, Math.round((Date.parse(e.timestamp) - t0) / 100) / 10), label: labelOf(e), kind: kindOf(e.name) })),
    });
    parts.push(timelineChart(timeline));
  } else {
    parts.push(`<p class="muted">${lines === undefined ? 'The events file of this run is not beside this report.' : 'No events were recorded.'}</p>`);
  }
  const notes: string[] = [`${events.length} events and ${measurements} per-window measurements in ${r.events?.file ?? 'events.ndjson'}${r.events?.fileError ? ` (writing failed: ${r.events.fileError})` : ''}.`];
  const rc = r.events?.receiver;
  if (rc) notes.push(`Faro receiver ${rc.origin}: ${rc.sent} sent, ${rc.dropped} dropped${rc.failedPosts > 0 ? ` after ${rc.failedPosts} failed POST(s)` : ''}${rc.lastError ? ` (last error: ${rc.lastError})` : ''}.`);
  else if (r.events) notes.push('No Faro receiver was named for this run.');
  parts.push(...notes.map((n) => `<p class="figures">${esc(n)}</p>`));
  return parts.join('\n');
}
