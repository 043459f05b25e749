// Scenario files: validation names the file and the field; the shipped files load in both
// profiles, `full` carries the plan's numbers (plan §2), and pass criteria cannot vary by profile.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { listScenarios, loadScenario, parseScenario, resolveScenario, SCENARIO_DIR, type ScenarioFile } from '../../../src/config/scenario.ts';
import { maxExecutorMs, type ExecutorConfig } from '../../../src/load/executors/index.ts';
import { TEMPLATE_SCENARIOS } from '../../../src/report/results.ts';
import { scenarioProblems } from './scenario-problems.ts';

const FILE = '/tmp/scenarios/bad.yaml';

const BASE = {
  name: 'tiny',
  title: 'Tiny',
  profiles: { smoke: { executor: 'per-vu-iterations', vus: 2, iterations: 1 } },
  journeys: [{ name: 'one', steps: [{ name: 'call', tool: 'sessions_list', args: { user_id: '{{user}}' } }] }],
  thresholds: [{ name: 'P95 < 100 ms', metric: 'latency', expr: 'p(95)<100ms' }],
  promql: [{ name: 'sidecar', query: 'histogram_quantile(0.95, sum by (le) (rate(x_bucket[$__range])))', op: '<', value: 0.1 }],
};

/** Parse BASE changed by `edit`; returns the problems (throws when the file is accepted). */
function problemsOf(edit: (doc: Record<string, unknown>) => void): string[] {
  return scenarioProblems(BASE, FILE, edit);
}

describe('scenario file validation', () => {
  it('the base document is valid (so each case below fails for its own reason)', () => {
    const s = parseScenario(YAML.stringify(BASE), FILE);
    expect(s.name).toBe('tiny');
    expect(s.profiles.smoke?.executor).toBe('per-vu-iterations');
  });

  it('bad executor: names the file, the profile and the executors that exist', () => {
    const p = problemsOf((d) => {
      d.profiles = { smoke: { executor: 'constant-hammer', vus: 2 } };
    });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(FILE);
    expect(p[0]).toContain('profiles.smoke');
    expect(p[0]).toContain('"constant-hammer"');
    expect(p[0]).toContain('per-vu-iterations');
  });

  it('bad executor field: names the file, the profile and the field', () => {
    const p = problemsOf((d) => {
      d.profiles = { smoke: { executor: 'per-vu-iterations', vus: 0 } };
    });
    expect(p.join('\n')).toMatch(new RegExp(`${FILE}: profiles\\.smoke: .*vus`));
  });

  it('unknown step in a threshold select: names the file, the field and the step', () => {
    const p = problemsOf((d) => {
      d.thresholds = [{ name: 'x', metric: 'latency', select: { steps: ['nope'] }, expr: 'p(95)<1s' }];
    });
    expect(p).toEqual([`${FILE}: thresholds[0].select.steps: no step named "nope"`]);
  });

  it('bad threshold expression: names the file, the field and the expression', () => {
    const p = problemsOf((d) => {
      d.thresholds = [BASE.thresholds[0], { name: 'x', metric: 'latency', expr: 'p95 < fast' }];
    });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^${FILE}: thresholds\\[1\\]\\.expr: `));
    expect(p[0]).toContain('p95 < fast');
  });

  it('bad PromQL: names the file, the field and where the query breaks', () => {
    const p = problemsOf((d) => {
      d.promql = [{ name: 'broken', query: 'sum(rate(x_total[$__range])', op: '<', value: 1 }];
    });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^${FILE}: promql\\[0\\]\\.query: invalid PromQL`));
  });

  it('bad PromQL in a figure is caught the same way', () => {
    const p = problemsOf((d) => {
      d.figures = [{ name: 'f', query: 'sum by (le (x)' }];
    });
    expect(p[0]).toMatch(new RegExp(`^${FILE}: figures\\[0\\]\\.query: invalid PromQL`));
  });

  it('an unknown field and a duplicate step name are reported with their path', () => {
    expect(problemsOf((d) => (d.treshold = []))).toEqual([`${FILE}: (top level): unknown field "treshold"`]);
    const dup = problemsOf((d) => {
      d.journeys = [{ name: 'one', steps: [{ name: 'a', tool: 't' }, { name: 'a', tool: 't' }] }];
    });
    expect(dup).toEqual([`${FILE}: journeys[0].steps[1].name: duplicate step name "a"`]);
  });

  it('invalid YAML names the file with line and column', () => {
    expect(() => parseScenario('name: [unclosed\n', FILE)).toThrow(new RegExp(`${FILE}:\\d+:\\d+: invalid YAML`));
  });

  it('an unknown scenario name lists the known ones', () => {
    expect(() => resolveScenario('no-such-scenario')).toThrow(/unknown scenario "no-such-scenario"; known: .*policy-evaluation/);
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow(/\/nonexistent\/x\.yaml: cannot read scenario file \(ENOENT\)/);
  });
});

describe('the shipped scenario files', () => {
  const names = listScenarios();
  const files: ScenarioFile[] = names.map((n) => resolveScenario(n));
  const byName = (n: string): ScenarioFile => {
    const f = files.find((x) => x.name === n);
    if (!f) throw new Error(`no scenario ${n}`);
    return f;
  };
  const full = (n: string): ExecutorConfig => {
    const e = byName(n).profiles.full;
    if (!e) throw new Error(`${n}: no full profile`);
    return e;
  };

  it('are the five of the results template, each named like its file', () => {
    expect(names).toEqual([...TEMPLATE_SCENARIOS.map((t) => t.name)].sort());
    for (const f of files) {
      expect(path.basename(f.file, '.yaml')).toBe(f.name);
      expect(f.title).toBe(TEMPLATE_SCENARIOS.find((t) => t.name === f.name)?.title);
    }
  });

  it.each(names)('%s loads with smoke and full, each bounded in time', (n) => {
    const f = byName(n);
    expect(Object.keys(f.profiles).sort()).toEqual(['full', 'smoke']);
    for (const e of Object.values(f.profiles)) expect(Number.isFinite(maxExecutorMs(e))).toBe(true);
    // Every scenario judges something; a scenario without criteria could never fail.
    expect(f.thresholds.length + f.promql.length).toBeGreaterThan(0);
  });

  it('full carries the plan numbers (plan §2)', () => {
    const briefing = full('briefing-generation');
    expect(briefing).toMatchObject({ executor: 'per-vu-iterations', vus: 500, iterations: 1, barrier: true });

    // 500 users × 10 calls = 5,000 evaluations, arriving open-model at 500/s for 10 s.
    const policy = full('policy-evaluation');
    expect(policy).toMatchObject({ executor: 'constant-arrival-rate', rate: 500, timeUnit: 1_000, duration: 10_000, preAllocatedVUs: 500 });
    if (policy.executor !== 'constant-arrival-rate') throw new Error('policy-evaluation full: not open model');
    expect((policy.rate * policy.duration) / policy.timeUnit).toBe(5000);

    const audit = full('audit-write');
    if (audit.executor !== 'shared-iterations') throw new Error(`audit-write full: ${audit.executor}`);
    expect(audit.vus).toBe(500);
    expect(audit.iterations).toBeGreaterThanOrEqual(5000);
    // One audited call per iteration: iterations are writes.
    expect(byName('audit-write').journeys.flatMap((j) => j.steps).filter((s) => 'tool' in s && s.recordAck)).toHaveLength(1);

    const burst = full('connector-burst');
    expect(burst).toMatchObject({ executor: 'per-vu-iterations', vus: 100, iterations: 1, barrier: true });
    const burstSteps = byName('connector-burst').journeys.flatMap((j) => j.steps.map((s) => ('tool' in s ? s.tool : '')));
    expect(burstSteps.sort()).toEqual(['calendar_read', 'email_search', 'gdrive_search', 'github_pr_read', 'jira_search']);
    expect(byName('connector-burst').journeys.every((j) => j.parallel)).toBe(true);

    const mixed = full('mixed-workload');
    expect(mixed).toMatchObject({ executor: 'constant-vus', vus: 500, duration: 30 * 60_000 });
    expect(byName('mixed-workload').journeys.map((j) => j.weight)).toEqual([40, 25, 20, 10, 5]);
  });

  it('the pass criteria are the plan’s (and live outside the profiles)', () => {
    const crit = (n: string) => {
      const f = byName(n);
      return [...f.thresholds.map((t) => `${t.metric} ${t.expr}`), ...f.promql.map((t) => `promql ${t.op} ${t.value}`)];
    };
    expect(crit('briefing-generation')).toEqual(expect.arrayContaining(['latency p(95)<30s', 'latency p(99)<60s', 'errors count==0']));
    expect(crit('policy-evaluation')).toEqual(expect.arrayContaining(['latency p(95)<100ms', 'latency p(99)<500ms']));
    expect(crit('audit-write')).toEqual(expect.arrayContaining(['figure:audit_dropped count==0', 'promql < 0.05']));
    expect(byName('audit-write').verify).toEqual([{ kind: 'audit-lookup' }]);
    expect(crit('connector-burst')).toEqual(expect.arrayContaining(['errors count==0']));
    expect(crit('mixed-workload')).toEqual(expect.arrayContaining(['errors rate<0.001', 'latency p(95)<5s', 'latency p(95)<10s']));
  });

  it.each(names)('%s: a profile holds only a load shape — criteria inside a profile are rejected', (n) => {
    const f = byName(n);
    const raw = YAML.parse(fs.readFileSync(path.join(SCENARIO_DIR, `${n}.yaml`), 'utf8')) as Record<string, unknown>;
    // As shipped: no profile block carries anything but executor settings.
    const profiles = raw.profiles as Record<string, Record<string, unknown>>;
    for (const [p, block] of Object.entries(profiles)) {
      for (const k of ['thresholds', 'promql', 'figures', 'verify', 'journeys']) expect(Object.keys(block), `${n} profiles.${p}`).not.toContain(k);
    }
    // And the format cannot express per-profile criteria: the executor schemas are strict.
    const smoke = profiles.smoke as Record<string, unknown>;
    const changed = { ...raw, profiles: { ...profiles, smoke: { ...smoke, thresholds: [{ name: 'looser', metric: 'latency', expr: 'p(95)<10s' }] } } };
    expect(() => parseScenario(YAML.stringify(changed), f.file)).toThrow(/profiles\.smoke: .*thresholds/);
  });
});
