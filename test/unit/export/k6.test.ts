// `clawstorm export k6`: every scenario of the repository, in both load profiles, becomes a k6
// script that type-checks against @types/k6; executors and thresholds map as k6 means them; the
// k6-operator manifests are valid; and no token value is ever written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadScenario, parseScenario, type ScenarioFile } from '../../../src/config/scenario.ts';
import { loadTargetProfile } from '../../../src/config/profile.ts';
import { parseExecutorConfig } from '../../../src/load/executors/index.ts';
import { ExportError, REPO_ROOT } from '../../../src/export/common.ts';
import { exportK6, planK6Export } from '../../../src/export/k6/export.ts';
import { integerRateFactor, k6Scenario } from '../../../src/export/k6/executor.ts';
import { runnerArguments, K6_IMAGE } from '../../../src/export/k6/operator.ts';
import { generateScript } from '../../../src/export/k6/script.ts';
import { mapThresholds } from '../../../src/export/k6/thresholds.ts';
import { stringExpr } from '../../../src/export/k6/template.ts';
import { judgeFromPrometheus } from '../../../src/export/judge.ts';
import { checkManifests, manifestProblems } from '../../../src/export/manifests.ts';
import { allScenarioFiles, FIXTURE_TARGET, readTree, targetWithSecrets, yamlDocs, type SecretTarget } from './helpers.ts';

const TSC = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
const SCENARIOS = allScenarioFiles();

let secrets: SecretTarget;
let tmp: string;
const exported: Record<string, { dir: string; tree: Map<string, string> }> = {};

beforeAll(() => {
  secrets = targetWithSecrets();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-export-k6-'));
  for (const profile of ['smoke', 'full'] as const) {
    const dir = path.join(tmp, profile);
    exportK6({ scenarios: SCENARIOS, profile, targetFile: secrets.file, outDir: dir, runners: 3, runId: `t-${profile}` });
    exported[profile] = { dir, tree: readTree(dir) };
  }
});

afterAll(() => {
  secrets.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('export k6: scripts', () => {
  it('covers every scenario of the repository', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(8);
    for (const profile of ['smoke', 'full']) {
      const files = [...(exported[profile]?.tree.keys() ?? [])];
      for (const f of SCENARIOS) expect(files, `${profile}: ${f}`).toContain(`${loadScenario(f).name}.ts`);
    }
  });

  for (const profile of ['smoke', 'full'] as const) {
    it(`${profile}: every generated script type-checks against @types/k6 (tsc with the exported tsconfig)`, { timeout: 120_000 }, async () => {
      const dir = exported[profile]!.dir;
      const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]>; types: string[] } };
      // It compiles against this repository's @types/k6, and against nothing else (no Node, no DOM).
      expect(path.resolve(dir, tsconfig.compilerOptions.paths['k6/*']![0]!.replace('/*', ''))).toBe(path.join(REPO_ROOT, 'node_modules', '@types', 'k6'));
      expect(tsconfig.compilerOptions.types).toEqual([]);
      const r = await execa(TSC, ['-p', path.join(dir, 'tsconfig.json')], { reject: false, timeout: 110_000, all: true });
      expect(r.all, `tsc found errors in the ${profile} export`).toBe('');
      expect(r.exitCode).toBe(0);
    });
  }

  it('the type check is real: a script that misuses the k6 API fails it', { timeout: 60_000 }, async () => {
    const dir = path.join(tmp, 'broken');
    exportK6({ scenarios: ['openclaw/hook-storm'], profile: 'smoke', targetFile: secrets.file, outDir: dir, runners: 1, runId: 'broken' });
    const file = path.join(dir, 'hook-storm.ts');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('executor: "constant-arrival-rate"', 'executor: "constant-arival-rate"'));
    const r = await execa(TSC, ['-p', path.join(dir, 'tsconfig.json')], { reject: false, timeout: 55_000, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/hook-storm\.ts.*constant-arival-rate/s);
  });

  it('text from a scenario file cannot break the script: line breaks and comment ends in names, a step header ClawStorm overrides', { timeout: 60_000 }, async () => {
    const dir = path.join(tmp, 'odd');
    const file = path.join(tmp, 'odd.yaml');
    fs.writeFileSync(
      file,
      YAML.stringify({
        name: 'odd',
        title: 'Odd\nexport const injected = 1;',
        profiles: { smoke: { executor: 'shared-iterations', vus: 2, iterations: 4 } },
        journeys: [
          {
            name: 'j',
            steps: [
              { name: 'weird', tool: 'tool */ export const injected2 = 2; /*', args: { q: '`${x}` \\ {{user}}' } },
              { name: 'hdr', http: { method: 'POST', path: '/x', headers: { 'x-request-id': 'mine', 'Idempotency-Key': 'k-{{iteration}}' }, body: 'raw text' } },
            ],
          },
        ],
      }),
    );
    exportK6({ scenarios: [file], profile: 'smoke', targetFile: secrets.file, outDir: dir, runners: 1, runId: 'odd' });
    const text = fs.readFileSync(path.join(dir, 'odd.ts'), 'utf8');
    expect(text).not.toMatch(/^export const injected/m);
    expect(text).not.toMatch(/^\s*export const injected2/m);
    expect(text).toContain('q: `\\`\\${x}\\` \\\\ ${v.user}`');
    // ClawStorm's own x-request-id wins over the step's, as in ClawStorm; the step's other headers stay.
    expect(text).not.toContain('"mine"');
    expect(text).toContain('"Idempotency-Key": `k-${v.iteration}`');
    const r = await execa(TSC, ['-p', path.join(dir, 'tsconfig.json')], { reject: false, timeout: 55_000, all: true });
    expect(r.all).toBe('');
  });

  it('no token value appears in any written file; tokens are read from __ENV by name', () => {
    for (const profile of ['smoke', 'full']) {
      for (const [file, text] of exported[profile]!.tree) {
        for (const [name, value] of Object.entries(secrets.values)) expect(text.includes(value), `${profile}/${file} holds the ${name} token`).toBe(false);
      }
      const hook = exported[profile]!.tree.get('hook-storm.ts')!;
      expect(hook).toContain('env("CLAWSTORM_TOKEN_HOOK"');
      const mixed = exported[profile]!.tree.get('mixed-workload.ts')!;
      expect(mixed).toContain('env("OPENCLAW_GATEWAY_TOKEN"');
    }
  });

  it('requests carry what ClawStorm sends: request id, user, tenant, bearer token, the step’s idempotency key, step/kind/call tags', () => {
    const tree = exported.smoke!.tree;
    const hook = tree.get('hook-storm.ts')!;
    expect(hook).toContain('"idempotency-key": `clawstorm-${v.run}-${v.iteration}`');
    expect(hook).toContain('authorization: "Bearer " + TOKEN_HOOK');
    expect(hook).toContain('const requestId = `${v.run}.hook-storm.${v.iteration}.hooks_agent`;');
    expect(hook).toContain('tags: { step: "hooks_agent", kind: "write", call: "POST /hooks/agent", name: "/hooks/agent" }');
    expect(hook).toContain('http.expectedStatuses(200)');
    const mixed = tree.get('mixed-workload.ts')!;
    expect(mixed).toContain('"x-tenant-id": String(v.tenant)');
    expect(mixed).toContain('const TENANTS: number | undefined = 25;');
    // A URL built per iteration is still named by its template, so series stay few.
    expect(mixed).toContain('path: `/api/v1/audit?user_id=${v.user}&page_size=50`');
    expect(mixed).toContain('name: "/api/v1/audit"');
    // Captured values feed later steps of the same iteration.
    expect(mixed).toContain('capture(v, answer, { policyId: "policy.id" });');
    expect(mixed).toContain('path: `/api/v1/policies/${need(v, "policyId", "policy_delete")}`');
    const burst = tree.get('connector-burst.ts')!;
    expect(burst).toMatch(/await Promise\.all\(\[step0_0_email_search\(v\), step0_1_calendar_read\(v\), .*step0_4_gdrive_search\(v\)\]\);/);
    const ws = tree.get('ws-connection-storm.ts')!;
    expect(ws).toContain(`from './clawstorm-runtime.ts'`);
    expect(ws).toContain('await wsStep({');
    expect(ws).toContain('minProtocol: 4');
    const runtime = tree.get('clawstorm-runtime.ts')!;
    expect(runtime).toContain("from 'k6/websockets'");
    expect(runtime).not.toContain('k6/experimental/websockets');
  });

  it('url and error are left out of the system tags (a series per URL would flood Prometheus)', () => {
    const text = exported.smoke!.tree.get('mixed-workload.ts')!;
    const tags = /systemTags: \[([^\]]*)\]/s.exec(text)?.[1] ?? '';
    expect(tags).toContain('"expected_response"');
    expect(tags).toContain('"scenario"');
    expect(tags).not.toContain('"url"');
    expect(tags).not.toContain('"error"');
  });
});

describe('export k6: executors map one to one', () => {
  const cases: Array<[unknown, Record<string, unknown>]> = [
    [{ executor: 'per-vu-iterations', vus: 500, iterations: 2, maxDuration: '5m', gracefulStop: '90s' }, { executor: 'per-vu-iterations', vus: 500, iterations: 2, maxDuration: '5m', gracefulStop: '90s' }],
    [{ executor: 'shared-iterations', vus: 25, iterations: 5000, maxDuration: '3m' }, { executor: 'shared-iterations', vus: 25, iterations: 5000, maxDuration: '3m', gracefulStop: '30s' }],
    [{ executor: 'constant-vus', vus: 50, duration: '45s', startTime: '10s' }, { executor: 'constant-vus', vus: 50, duration: '45s', startTime: '10s', gracefulStop: '30s' }],
    [
      { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '30s', target: 20 }, { duration: '1m30s', target: 10 }], gracefulRampDown: '0s' },
      { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '30s', target: 20 }, { duration: '90s', target: 10 }], gracefulRampDown: '0s', gracefulStop: '30s' },
    ],
    [
      { executor: 'constant-arrival-rate', rate: 500, timeUnit: '1s', duration: '10s', preAllocatedVUs: 500, maxVUs: 2000 },
      { executor: 'constant-arrival-rate', rate: 500, timeUnit: '1s', duration: '10s', preAllocatedVUs: 500, maxVUs: 2000, gracefulStop: '30s' },
    ],
    [
      { executor: 'ramping-arrival-rate', startRate: 10, timeUnit: '1m', stages: [{ duration: '2m', target: 60 }], preAllocatedVUs: 0, maxVUs: 50 },
      { executor: 'ramping-arrival-rate', startRate: 10, timeUnit: '1m', stages: [{ duration: '2m', target: 60 }], preAllocatedVUs: 0, maxVUs: 50, gracefulStop: '30s' },
    ],
  ];
  for (const [input, want] of cases) {
    const name = (input as { executor: string }).executor;
    it(`${name}: the same options, durations as k6 text`, () => {
      expect(k6Scenario(parseExecutorConfig(input), 'test').scenario).toEqual(want);
    });
  }

  it('every executor type of the repository’s scenarios reaches its script as written', () => {
    for (const profile of ['smoke', 'full']) {
      for (const f of SCENARIOS) {
        const s = loadScenario(f);
        const cfg = s.profiles[profile]!;
        const text = exported[profile]!.tree.get(`${s.name}.ts`)!;
        expect(text, `${profile}/${s.name}`).toContain(`executor: "${cfg.executor}"`);
        if ('vus' in cfg) expect(text).toContain(`vus: ${cfg.vus}`);
        if ('rate' in cfg) expect(text).toContain(`rate: ${cfg.rate}`);
      }
    }
  });

  it('fractional arrival rates become whole numbers over a longer time unit (k6 rates are integers)', () => {
    expect(k6Scenario(parseExecutorConfig({ executor: 'constant-arrival-rate', rate: 0.5, duration: '10s', preAllocatedVUs: 1 }), 'x').scenario).toMatchObject({ rate: 1, timeUnit: '2s' });
    expect(
      k6Scenario(parseExecutorConfig({ executor: 'ramping-arrival-rate', startRate: 0.25, stages: [{ duration: '4s', target: 1.5 }], preAllocatedVUs: 1 }), 'x').scenario,
    ).toMatchObject({ startRate: 1, timeUnit: '4s', stages: [{ duration: '4s', target: 6 }] });
    expect(integerRateFactor([Math.PI])).toBeUndefined();
    expect(() => k6Scenario(parseExecutorConfig({ executor: 'constant-arrival-rate', rate: Math.PI, duration: '1s', preAllocatedVUs: 1 }), 'here')).toThrow(/here: the arrival rates .* whole numbers/);
  });

  it('a start barrier has no k6 equivalent and says so', () => {
    const m = k6Scenario(parseExecutorConfig({ executor: 'per-vu-iterations', vus: 3, barrier: true }), 'x');
    expect(m.notes.join(' ')).toMatch(/barrier/);
  });
});

describe('export k6: thresholds', () => {
  const byName = (s: ScenarioFile) => {
    const m = mapThresholds(s);
    return { ...m, expr: Object.fromEntries(m.mapped.map((x) => [x.name, `${x.metric} ${x.expr}`])), why: Object.fromEntries(m.notExpressed.map((x) => [x.name, x.why])) };
  };

  it('latency and error criteria become k6 thresholds on the same samples', () => {
    const mixed = byName(loadScenario(path.join(REPO_ROOT, 'scenarios/mixed-workload.yaml')));
    expect(mixed.expr).toEqual({
      'error rate < 0.1%': 'http_req_failed{scenario:mixed-workload} rate<0.001',
      'P95 < 5 s (reads)': 'http_req_duration{scenario:mixed-workload,kind:read} p(95)<5000',
      'P95 < 10 s (writes)': 'http_req_duration{scenario:mixed-workload,kind:write} p(95)<10000',
    });
    const ws = byName(loadScenario(path.join(REPO_ROOT, 'scenarios/openclaw/ws-connection-storm.yaml')));
    expect(ws.expr['sessions.list P95 < 500 ms']).toBe('clawstorm_ws_duration{scenario:ws-connection-storm,step:session.rpc,call:sessions.list} p(95)<500');
    expect(ws.expr['every session connects']).toBe('clawstorm_ws_failed{scenario:ws-connection-storm,step:session.connect} rate==0');
    const hook = byName(loadScenario(path.join(REPO_ROOT, 'scenarios/openclaw/hook-storm.yaml')));
    expect(hook.expr['every hook started on time']).toBe('dropped_iterations{scenario:hook-storm} count==0');
    expect(hook.expr['every hook accepted (200)']).toBe('http_req_failed{scenario:hook-storm} rate==0');
  });

  it('what k6 cannot express stays with the judge, with the reason in the script', () => {
    const audit = byName(loadScenario(path.join(REPO_ROOT, 'scenarios/audit-write.yaml')));
    expect(Object.keys(audit.why)).toEqual(['zero dropped entries']);
    expect(audit.why['zero dropped entries']).toMatch(/figure/);
    const text = exported.smoke!.tree.get('audit-write.ts')!;
    expect(text).toMatch(/Judged by `clawstorm judge` only, k6 cannot express them:\n\/\/ +zero dropped entries: /);
    expect(text).toMatch(/PromQL, judged by `clawstorm judge` from Prometheus:\n\/\/ +P95 write < 50 ms/);
  });

  it('selections k6 cannot make are not approximated', () => {
    const s = parseScenario(
      YAML.stringify({
        name: 'sel',
        title: 'Sel',
        profiles: { smoke: { executor: 'constant-vus', vus: 1, duration: '1s' } },
        journeys: [
          { name: 'a', steps: [{ name: 'r1', tool: 't1' }, { name: 'r2', tool: 't2' }, { name: 'w1', kind: 'write', tool: 't3' }] },
          { name: 'b', steps: [{ name: 's', ws: { hold: '1s', calls: [{ method: 'health' }, { method: 'status' }] } }] },
        ],
        thresholds: [
          { name: 'two steps', metric: 'latency', select: { steps: ['r1', 'w1'] }, expr: 'p(95)<1s' },
          { name: 'all reads', metric: 'latency', select: { kind: 'read' }, expr: 'p(95)<1s' },
          { name: 'two calls', metric: 'latency', select: { steps: ['s.rpc'], methods: ['health', 'status'] }, expr: 'p(95)<1s' },
          { name: 'one call', metric: 'errors', select: { steps: ['s.rpc'], methods: ['status'] }, expr: 'rate<0.01' },
          { name: 'error count', metric: 'errors', select: { steps: ['r1'] }, expr: 'count<5' },
          { name: 'latency count', metric: 'latency', select: { kind: 'write' }, expr: 'count>10' },
        ],
      }),
      '/tmp/sel.yaml',
    );
    const m = byName(s);
    expect(m.why['two steps']).toMatch(/selects 2 steps/);
    // Reads are r1, r2 and the ws samples: two metrics.
    expect(m.why['all reads']).toMatch(/mixes HTTP requests and WebSocket samples/);
    // Both calls of the step are all its calls: no call filter is needed.
    expect(m.expr['two calls']).toBe('clawstorm_ws_duration{scenario:sel,step:s.rpc} p(95)<1000');
    expect(m.expr['one call']).toBe('clawstorm_ws_failed{scenario:sel,step:s.rpc,call:status} rate<0.01');
    expect(m.why['error count']).toMatch(/rate/);
    expect(m.why['latency count']).toMatch(/no count/);
  });
});

describe('export k6: templates', () => {
  const scope = { requestId: true, captured: new Set(['policyId']), step: 'st', where: 'f.yaml: x' };
  it('a lone variable keeps its type, text splices values in, special characters stay text', () => {
    expect(stringExpr('{{iteration}}', scope)).toBe('v.iteration');
    expect(stringExpr('{{ user }}', scope)).toBe('v.user');
    expect(stringExpr('plain', scope)).toBe('"plain"');
    expect(stringExpr('a-{{run}}-{{iteration}}', scope)).toBe('`a-${v.run}-${v.iteration}`');
    expect(stringExpr('`x` ${y} \\ {{requestId}}', scope)).toBe('`\\`x\\` \\${y} \\\\ ${requestId}`');
    expect(stringExpr('/p/{{policyId}}', scope)).toBe('`/p/${need(v, "policyId", "st")}`');
  });

  it('an unknown variable is an export error naming where it is', () => {
    expect(() => stringExpr('{{nope}}', scope)).toThrow(ExportError);
    expect(() => stringExpr('x {{nope}}', scope)).toThrow(/f\.yaml: x: unknown template variable \{\{nope\}\}/);
    expect(() => stringExpr('{{requestId}}', { ...scope, requestId: false })).toThrow(/unknown template variable \{\{requestId\}\}/);
  });

  it('a generated script renders a scenario file’s templates', () => {
    const s = loadScenario(path.join(REPO_ROOT, 'scenarios/openclaw/hook-storm.yaml'));
    const text = generateScript({ scenario: s, profile: 'smoke', target: loadTargetProfile(FIXTURE_TARGET) }).text;
    expect(text).toContain('body: { message: `clawstorm hook storm ${v.run} #${v.iteration}`, name: "clawstorm", deliver: false }');
  });
});

describe('export k6: k6-operator manifests', () => {
  const docs = () => {
    const tree = exported.smoke!.tree;
    return { shared: yamlDocs(tree.get('k8s/shared.yaml')!), hook: yamlDocs(tree.get('k8s/hook-storm.yaml')!) };
  };

  it('every object is valid (kubernetes-models, the TestRun schema, API-server rules)', () => {
    for (const profile of ['smoke', 'full']) {
      for (const [file, text] of exported[profile]!.tree) {
        if (!file.startsWith('k8s/')) continue;
        for (const d of yamlDocs(text)) expect(manifestProblems(d), `${profile}/${file} ${String(d.kind)}`).toEqual([]);
      }
    }
  });

  it('the TestRun: parallelism N, the script from the ConfigMap, remote write with native histograms, no thresholds on runners', () => {
    const [tr, judge] = docs().hook as [Record<string, any>, Record<string, any>];
    expect(tr.apiVersion).toBe('k6.io/v1alpha1');
    expect(tr.kind).toBe('TestRun');
    expect(tr.spec.parallelism).toBe(3);
    expect(tr.spec.script).toEqual({ configMap: { name: 't-smoke-k6-scripts', file: 'hook-storm.ts' } });
    expect(tr.spec.arguments).toBe(runnerArguments('t-smoke', 't-smoke-hook-storm').join(' '));
    expect(tr.spec.arguments).toContain('--tag testrun_name=t-smoke-hook-storm');
    expect(tr.spec.arguments.split(' ')).toEqual(expect.arrayContaining(['--out', 'experimental-prometheus-rw', '--no-thresholds']));
    expect(tr.spec.runner.image).toBe(K6_IMAGE);
    const env = Object.fromEntries((tr.spec.runner.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.K6_PROMETHEUS_RW_SERVER_URL).toBe('http://prometheus.monitoring.svc:9090/api/v1/write');
    expect(env.K6_FEATURES).toBe('native-histograms');
    expect(env.CLAWSTORM_RUN_ID).toBe('t-smoke-hook-storm');
    expect(env.CLAWSTORM_TOKEN_HOOK).toEqual({ secretKeyRef: { name: 'clawstorm-tokens', key: 'hook' } });
    expect(env.K6_PROMETHEUS_RW_BEARER_TOKEN).toEqual({ secretKeyRef: { name: 'clawstorm-tokens', key: 'prometheus' } });
    // The ConfigMap the TestRun names holds the script and the runtime it imports.
    const scripts = docs().shared.find((d) => (d.metadata as { name: string }).name === 't-smoke-k6-scripts') as { data: Record<string, string> };
    expect(Object.keys(scripts.data)).toEqual(expect.arrayContaining(['hook-storm.ts', 'clawstorm-runtime.ts']));
    expect(scripts.data['hook-storm.ts']).toBe(exported.smoke!.tree.get('hook-storm.ts'));
    // The judge waits for this TestRun, then runs the one judge command line.
    expect(judge.kind).toBe('Job');
    expect(judge.spec.template.spec.initContainers[0].command).toEqual(expect.arrayContaining(['wait', 'testrun/t-smoke-hook-storm', '--for=jsonpath={.status.stage}=finished']));
    expect(judge.spec.template.spec.containers[0].command).toEqual(
      judgeFromPrometheus({ run: 't-smoke-hook-storm', runners: 3, profile: 'smoke', target: '/etc/clawstorm/target.yaml', scenarios: ['/etc/clawstorm/scenarios/hook-storm.yaml'] }),
    );
    expect(judge.spec.template.spec.containers[0].command.slice(0, 7)).toEqual(['clawstorm', 'judge', '--run', 't-smoke-hook-storm', '--runners', '3', '--from-prometheus']);
  });

  it('the TestRun schema rejects what the operator would not run as meant', () => {
    const good = docs().hook[0] as Record<string, any>;
    const variants: Array<[string, (t: Record<string, any>) => void, RegExp]> = [
      ['no parallelism', (t) => delete t.spec.parallelism, /must have required property 'parallelism'/],
      ['zero runners', (t) => (t.spec.parallelism = 0), /parallelism must be >= 1/],
      ['no script', (t) => delete t.spec.script, /must have required property 'script'/],
      ['two script sources', (t) => (t.spec.script.localFile = '/test/x.js'), /script must NOT have more than 1 properties/],
      ['misspelt field', (t) => (t.spec.paralellism = 3), /must NOT have additional properties \(paralellism\)/],
      ['value and valueFrom', (t) => (t.spec.runner.env[0].valueFrom = { secretKeyRef: { name: 'a', key: 'b' } }), /env\/0 must NOT be valid/],
      ['secret key missing', (t) => delete t.spec.runner.env.find((e: { valueFrom?: unknown }) => e.valueFrom).valueFrom.secretKeyRef.key, /must have required property 'key'/],
      ['unknown version', (t) => (t.apiVersion = 'k6.io/v1'), /no check for k6\.io\/v1 TestRun/],
    ];
    expect(manifestProblems(good)).toEqual([]);
    for (const [what, edit, why] of variants) {
      const t = structuredClone(good);
      edit(t);
      const p = manifestProblems(t);
      expect(p.join('\n'), what).toMatch(why);
      expect(() => checkManifests([t]), what).toThrow(/exported manifests are not valid/);
    }
  });

  it('a test bed target or a target without a token a scenario sends is refused with one clear message', () => {
    expect(() => planK6Export({ profile: 'smoke', targetFile: path.join(REPO_ROOT, 'profiles/local.yaml'), outDir: tmp, runners: 1 })).toThrow(/local test bed profile/);
    const noHook = path.join(secrets.dir, 'no-hook.yaml');
    fs.writeFileSync(noHook, fs.readFileSync(secrets.file, 'utf8').replace(/\n  hook: .*\n/, '\n'));
    expect(() => planK6Export({ scenarios: ['openclaw/hook-storm'], profile: 'smoke', targetFile: noHook, outDir: tmp, runners: 1 })).toThrow(/tokens\.hook: scenario hook-storm sends the hook token/);
    expect(() => planK6Export({ profile: 'smoke', targetFile: secrets.file, outDir: tmp, runners: 0 })).toThrow(/--runners must be a whole number/);
  });
});
