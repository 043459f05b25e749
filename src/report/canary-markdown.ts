// The "Canary analysis" part of results.md, from the `canary` section: the verdict and its
// classification with the evidence, then per weight step the analysis and the judge, then every
// measurement of every step.
import type { CanarySection } from './canary-schema.ts';
import { formatMs, formatPct, NONE, roundLongNumbers } from './format.ts';
import { separatorRow, tableRow } from './markdown.ts';

const VERDICT_WORD: Record<CanarySection['verdict'], string> = {
  promote: 'Promote',
  abort: 'Abort (rolled back)',
  'hold-and-scale': 'Hold and scale (rolled back)',
  inconclusive: 'Inconclusive (rolled back)',
};

function since(iso: string, from: string): string {
  return `+${((Date.parse(iso) - Date.parse(from)) / 1000).toFixed(1)} s`;
}

function side(s: CanarySection['steps'][number]['canary']): string {
  return `${s.requests} req · p99 ${formatMs(s.p99Ms)} · errors ${formatPct(s.errorRate)}${s.rejected > 0 ? ` · turned away ${formatPct(s.rejectedRate)}` : ''}`;
}

/** One step's measurements of one metric: `0.01 ✓, 0.02 ✗` in order. */
function measurements(m: CanarySection['steps'][number]['metrics'][number]): string {
  const mark = (p: string) => (p === 'Successful' ? 'ok' : p);
  const ms = m.measurements.map((x) => `${roundLongNumbers(x.value ?? NONE)} ${mark(x.phase)}`);
  return ms.length > 6 ? `${ms.slice(0, 3).join(', ')}, … (${ms.length}), ${ms.at(-1)}` : ms.join(', ') || NONE;
}

export function renderCanaryMarkdown(c: CanarySection): string[] {
  const lines: string[] = [
    `- Canary **${c.canary}** (server ${c.server}) against ${c.stable.join(', ')}; steps ${c.plannedSteps.join(' → ')} %`,
    `- Analysis: ${c.templates.map((t) => `${t.kind} \`${t.name}\` (${t.source})`).join('; ')}`,
    `- Verdict: **${VERDICT_WORD[c.verdict]}**${c.classification ? ` — **${c.classification.shape}**` : ''}: ${c.reason}`,
  ];
  for (const e of c.classification?.evidence ?? []) lines.push(`  - ${e}`);
  if (c.abortedAt !== null) {
    lines.push(
      `- Stopped ${since(c.abortedAt, c.startedAt)}; rolled back ${c.rolledBackAt === null ? 'never' : since(c.rolledBackAt, c.startedAt)}; canary weight afterwards ${c.canaryWeightAfter ?? NONE}` +
        (c.badStepToRollbackSeconds !== null ? `; from the bad step to the rollback ${c.badStepToRollbackSeconds.toFixed(1)} s (${c.badStepToAbortWindows?.toFixed(2) ?? NONE} analysis windows to the abort)` : ''),
    );
  }
  if (c.rollbackProblems.length > 0) lines.push(`- **Rollback problems**: ${c.rollbackProblems.join('; ')}`);
  lines.push(`- Judged traffic: ${c.requests} requests${c.load ? `; behind it \`${c.load.scenario}\` (${c.load.profile}) ran ${c.load.runs} time(s), ${c.load.requests} requests, ${c.load.errors} errors` : ''}`);
  lines.push('');
  const head = ['Step', 'Weights', 'Window', 'Analysis', 'Judge', 'Canary', 'Stable', 'Phase'];
  lines.push(tableRow(head), separatorRow(head.length));
  for (const s of c.steps) {
    lines.push(
      tableRow([
        `${s.percent} %${s.surge ? ' (capacity surge)' : s.injected ? ' (bad version)' : ''}`,
        Object.entries(s.weights).map(([k, w]) => `${k}=${w}`).join(' '),
        `${since(s.startedAt, c.startedAt)} … ${since(s.endedAt, c.startedAt)}`,
        s.analysisPhase,
        s.judge ? `${s.judge.score} ${s.judge.classification}` : `not run`,
        side(s.canary),
        side(s.stable),
        s.phase,
      ]),
    );
  }
  lines.push('');
  for (const s of c.steps) {
    lines.push(`### Step ${s.percent} % — ${s.phase}`, '');
    if (s.injected) lines.push(`- ${s.injected}`);
    if (s.analysisReason) lines.push(`- Analysis: ${s.analysisReason}`);
    lines.push(`- Judge: ${s.judge ? `${s.judge.score} ${s.judge.classification}${s.judge.reason ? ` (${s.judge.reason})` : ''}; ${s.judge.metrics.map((m) => `${m.name} ${m.classification}`).join(', ')}` : (s.judgeSkipped ?? 'not run')}`, '');
    const mh = ['Metric', 'Phase', 'Measurements'];
    lines.push(tableRow(mh), separatorRow(mh.length));
    for (const m of s.metrics) lines.push(tableRow([`${m.name}${m.dryRun ? ' (dry run)' : ''}`, m.phase, measurements(m)]));
    lines.push('');
  }
  return lines.map(roundLongNumbers);
}
