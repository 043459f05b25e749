// junit.xml: one <testcase> per threshold (scenario, drill and run thresholds) and per
// Metrics-to-monitor row, one <testsuite> per scenario / drill / "run" / "metrics".
//
// How verdicts map, so CI shows what the exit code means:
//   pass    → plain testcase
//   fail    → <failure type="fail">
//   no_data → <failure type="no_data"> — not <skipped>: no data fails closed in the gate
//             (exit 3), and CI systems render skipped as harmless grey.
//   inconclusive → <failure type="inconclusive"> with its reason (a saturated load generator's
//             client-side results, a pass over part of the series): exit 3, not a pass.
//   thresholds of a scenario that did not run, and metric rows marked gate: false (whatever
//             their verdict) → <skipped>, the message starting with the same status every
//             format shows ("Not run", "Fail (not gating)"): they did not count toward the verdict.
//   A suite's `status` property is the scenario's or drill's status, an inconclusive one with
//   its reasons, as in results.md.
import { XMLBuilder } from 'fast-xml-parser';
import { statusOfVerdict } from '../score/status.ts';
import type { Verdict } from '../score/types.ts';
import { drillStatus, metricStatus, scenarioStatus } from './cells.ts';
import { BASELINE_THRESHOLD_PREFIX, type MetricRowRecord, type Results, type ThresholdRecord } from './results.ts';
import { evidenceText } from './baseline-cells.ts';
import type { CanarySection } from './canary-schema.ts';
import { verdictOfPhase } from '../score/track.ts';
import { redact } from '../util/redact.ts';

type Outcome = { kind: 'pass' } | { kind: 'failure'; type: string; message: string; body: string } | { kind: 'skipped'; message: string };

interface Case {
  name: string;
  classname: string;
  outcome: Outcome;
}

interface Suite {
  name: string;
  id: string;
  time: number;
  timestamp?: string;
  cases: Case[];
  properties?: Record<string, string>;
}

// XML 1.0 forbids most control characters even when escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const clean = (s: string): string => redact(s).replace(INVALID_XML, '\uFFFD');

/** A verdict as a junit outcome; the message starts with the same status word every format uses. */
function outcomeOf(verdict: Verdict, detail: string, body: string): Outcome {
  if (verdict === 'pass') return { kind: 'pass' };
  return { kind: 'failure', type: verdict, message: `${statusOfVerdict(verdict)}: ${detail}`, body };
}

function thresholdCase(t: ThresholdRecord, classname: string, ran: boolean, evidence?: string): Case {
  const body = evidence === undefined ? (t.query ?? t.expr) : `${t.expr}\nEvidence: ${evidence}`;
  const outcome: Outcome = ran ? outcomeOf(t.verdict, t.detail, body) : { kind: 'skipped', message: 'Not run' };
  return { name: `${t.name}: ${t.expr}`, classname, outcome };
}

function metricCase(m: MetricRowRecord): Case {
  const outcome: Outcome = !m.gate ? { kind: 'skipped', message: `${metricStatus(m)}: ${m.detail}` } : outcomeOf(m.verdict, m.detail, m.query);
  return { name: `${m.group} / ${m.metric}`, classname: 'clawstorm.metrics', outcome };
}

/** The statistical evidence behind a `baseline: <metric>` threshold, from the run's baseline section. */
function baselineEvidence(results: Results, scenario: string, t: ThresholdRecord): string | undefined {
  if (!t.name.startsWith(BASELINE_THRESHOLD_PREFIX) || results.baseline === undefined) return undefined;
  const metric = t.name.slice(BASELINE_THRESHOLD_PREFIX.length);
  const m = results.baseline.scenarios.find((s) => s.scenario === scenario)?.metrics.find((x) => x.metric === metric);
  return m === undefined ? undefined : evidenceText(m);
}

/**
 * A canary: one case per step and analysis metric, and one for the judge of each step (a dry-run
 * metric is skipped: it never decides). Phases map like verdicts: Successful passes, Failed fails,
 * Inconclusive is inconclusive, Error / Running is no data.
 */
function canaryCases(c: CanarySection): Case[] {
  const out: Case[] = [];
  for (const s of c.steps) {
    const classname = `clawstorm.canary.step${s.percent}`;
    for (const m of s.metrics) {
      const last = m.measurements.at(-1);
      const body = `${m.query}\n${m.measurements.map((x) => `${x.at} ${x.phase} ${x.value ?? '--'} ${x.detail}`).join('\n')}`;
      const outcome: Outcome = m.dryRun ? { kind: 'skipped', message: `dry run: ${m.phase}` } : outcomeOf(verdictOfPhase(m.phase), m.message || (last?.detail ?? ''), body);
      out.push({ name: `${s.percent} %: ${m.name}`, classname, outcome });
    }
    const judgeOutcome: Outcome =
      s.judge === null
        ? { kind: 'skipped', message: `Not run: ${s.judgeSkipped ?? 'no comparison'}` }
        : outcomeOf(s.judge.classification === 'Pass' ? 'pass' : s.judge.classification === 'Marginal' ? 'inconclusive' : 'fail', `score ${s.judge.score} ${s.judge.classification}${s.judge.reason ? `: ${s.judge.reason}` : ''}`, s.judge.metrics.map((m) => `${m.name} ${m.classification}: ${m.reason}`).join('\n'));
    out.push({ name: `${s.percent} %: canary vs stable judge`, classname, outcome: judgeOutcome });
  }
  return out;
}

function seconds(start?: string, end?: string): number {
  if (!start || !end) return 0;
  const d = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(d) && d > 0 ? d : 0;
}

export function renderJUnit(results: Results): string {
  const suites: Suite[] = [];
  for (const s of results.scenarios) {
    const ran = s.status !== 'Not run';
    suites.push({
      name: s.title,
      id: s.name,
      time: seconds(s.startedAt, s.endedAt),
      timestamp: s.startedAt,
      cases: s.thresholds.map((t) => thresholdCase(t, `clawstorm.${s.name}`, ran, baselineEvidence(results, s.name, t))),
      properties: {
        status: scenarioStatus(s),
        requests: String(s.requests),
        errors: String(s.errors),
        dropped: String(s.dropped),
        ...(results.baseline?.runId ? { baseline: results.baseline.runId } : {}),
      },
    });
  }
  for (const d of results.drills) {
    const ran = d.status !== 'Not run';
    suites.push({ name: d.title, id: d.name, time: 0, timestamp: d.startedAt, cases: d.thresholds.map((t) => thresholdCase(t, `clawstorm.${d.name}`, ran)), properties: { status: drillStatus(d) } });
  }
  if (results.thresholds.length > 0) {
    suites.push({ name: 'Run thresholds', id: 'run', time: seconds(results.startedAt, results.endedAt), cases: results.thresholds.map((t) => thresholdCase(t, 'clawstorm.run', true)) });
  }
  if (results.metrics.length > 0) {
    suites.push({ name: 'Metrics to monitor', id: 'metrics', time: 0, cases: results.metrics.map(metricCase) });
  }
  if (results.canary !== undefined) {
    const c = results.canary;
    suites.push({
      name: `Canary ${c.canary}`,
      id: 'canary',
      time: seconds(c.startedAt, c.endedAt),
      timestamp: c.startedAt,
      cases: canaryCases(c),
      properties: { status: c.verdict, ...(c.classification ? { classification: c.classification.shape } : {}) },
    });
  }

  const count = (cs: Case[], k: Outcome['kind']) => cs.filter((c) => c.outcome.kind === k).length;
  const all = suites.flatMap((s) => s.cases);
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': clean(`clawstorm ${results.runId}`),
      '@_tests': all.length,
      '@_failures': count(all, 'failure'),
      '@_errors': 0,
      '@_skipped': count(all, 'skipped'),
      '@_time': seconds(results.startedAt, results.endedAt).toFixed(3),
      '@_timestamp': results.startedAt,
      testsuite: suites.map((s) => ({
        '@_name': clean(s.name),
        '@_id': clean(s.id),
        '@_tests': s.cases.length,
        '@_failures': count(s.cases, 'failure'),
        '@_errors': 0,
        '@_skipped': count(s.cases, 'skipped'),
        '@_time': s.time.toFixed(3),
        ...(s.timestamp ? { '@_timestamp': s.timestamp } : {}),
        properties: {
          property: Object.entries({ verdict: results.verdict, exitCode: String(results.exitCode), aborted: String(results.aborted), saturated: String(results.generator.saturated), ...s.properties }).map(([name, value]) => ({
            '@_name': name,
            '@_value': clean(value),
          })),
        },
        testcase: s.cases.map((c) => {
          const tc: Record<string, unknown> = { '@_name': clean(c.name), '@_classname': clean(c.classname), '@_time': '0' };
          if (c.outcome.kind === 'failure') tc.failure = { '@_type': c.outcome.type, '@_message': clean(c.outcome.message), '#text': clean(c.outcome.body) };
          if (c.outcome.kind === 'skipped') tc.skipped = { '@_message': clean(c.outcome.message) };
          return tc;
        }),
      })),
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', textNodeName: '#text', format: true, suppressEmptyNode: true, processEntities: true });
  return builder.build(doc) as string;
}
