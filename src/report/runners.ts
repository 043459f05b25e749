// The "Runners" part of a distributed run's reports: each runner's segment and state, and per
// scenario each runner's share (planned, started, dropped, requests). The per-runner P95 is shown
// for reading only; the run's percentiles above come from the merged histograms.
import { NONE } from './format.ts';
import type { RunnersSection } from './runners-schema.ts';
import { esc } from './svg.ts';

const RUNNER_HEAD = ['Runner', 'Id', 'Segment', 'State', 'Saturated', 'Why'];
const SHARE_HEAD = ['Scenario', 'Runner', 'Planned', 'Started', 'Dropped', 'Interrupted', 'Requests', 'Errors', 'Own P95 (ms)'];

const n = (v: number | null): string => (v === null ? NONE : String(v));

function runnerRows(s: RunnersSection): string[][] {
  return s.runners.map((r) => [`${r.index}/${s.expected}`, r.id ?? NONE, r.segment, r.state, r.saturated ? 'yes' : 'no', r.reasons.join('; ') || NONE]);
}

function shareRows(s: RunnersSection): string[][] {
  return s.scenarios.flatMap((sc) => {
    const rows = sc.runners.map((r) => [sc.name, `${r.index}/${s.expected}`, n(r.planned), String(r.started), String(r.dropped), String(r.interrupted), String(r.requests), String(r.errors), n(r.p95)]);
    const sum = (f: (r: (typeof sc.runners)[number]) => number) => sc.runners.reduce((a, r) => a + f(r), 0);
    const planned = sc.runners.every((r) => r.planned !== null) ? String(sum((r) => r.planned ?? 0)) : NONE;
    rows.push([sc.name, 'all', planned, String(sum((r) => r.started)), String(sum((r) => r.dropped)), String(sum((r) => r.interrupted)), String(sum((r) => r.requests)), String(sum((r) => r.errors)), '(merged above)']);
    return rows;
  });
}

const mdRow = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

export function renderRunnersMarkdown(s: RunnersSection): string[] {
  return [
    `${s.expected} runner(s), segment sequence \`${s.sequence}\`. One verdict from their merged histograms and counts; a runner's own P95 is shown for reading only.`,
    ...(s.note ? ['', `Note: ${s.note}.`] : []),
    '',
    mdRow(RUNNER_HEAD),
    mdRow(RUNNER_HEAD.map(() => '---')),
    ...runnerRows(s).map(mdRow),
    '',
    mdRow(SHARE_HEAD),
    mdRow(SHARE_HEAD.map(() => '---')),
    ...shareRows(s).map(mdRow),
  ];
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderRunnersHtml(s: RunnersSection): string {
  return [
    '<h2>Runners</h2>',
    `<p>${esc(`${s.expected} runner(s), segment sequence ${s.sequence}. One verdict from their merged histograms and counts; a runner's own P95 is shown for reading only.`)}</p>`,
    s.note ? `<p class="muted">${esc(`Note: ${s.note}.`)}</p>` : '',
    htmlTable(RUNNER_HEAD, runnerRows(s)),
    htmlTable(SHARE_HEAD, shareRows(s)),
  ]
    .filter((x) => x !== '')
    .join('\n');
}
