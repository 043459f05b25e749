// The `ws:` step in scenario files, the target profile's `websocket` block, and the scenarios of
// scenarios/openclaw/ (loadable by name, invisible to the plan's listing).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { listScenarios, parseScenario, resolveScenario, SCENARIO_DIR, type WsStep } from '../../../src/config/scenario.ts';
import { parseTargetProfile } from '../../../src/config/profile.ts';
import { ProfileError } from '../../../src/config/errors.ts';
import { maxExecutorMs } from '../../../src/load/executors/index.ts';
import { scenarioProblems } from './scenario-problems.ts';

const FILE = '/tmp/scenarios/ws.yaml';

const BASE = {
  name: 'ws-tiny',
  title: 'WS tiny',
  profiles: { smoke: { executor: 'per-vu-iterations', vus: 2, iterations: 1 } },
  journeys: [
    {
      name: 'held',
      steps: [{ name: 'session', ws: { hold: '10s', every: '1s', calls: [{ method: 'health' }, { method: 'sessions.list', params: { limit: 5 } }] } }],
    },
  ],
  thresholds: [
    { name: 'connect', metric: 'latency', select: { steps: ['session.connect'] }, expr: 'p(95)<1s' },
    { name: 'rpc', metric: 'latency', select: { steps: ['session.rpc'], methods: ['health'] }, expr: 'p(95)<500ms' },
    { name: 'close', metric: 'errors', select: { steps: ['session.close'] }, expr: 'count==0' },
  ],
};

function problemsOf(edit: (doc: Record<string, unknown>, step: Record<string, unknown>) => void): string[] {
  return scenarioProblems(BASE, FILE, (doc) => edit(doc, (doc.journeys as Array<{ steps: Array<Record<string, unknown>> }>)[0]!.steps[0]!));
}

const at = (field: string) => `${FILE}: journeys[0].steps[0].${field}`;

describe('ws step schema', () => {
  it('validates, with defaults for path, interval, params and close timeout', () => {
    const s = parseScenario(YAML.stringify(BASE), FILE);
    const step = s.journeys[0]?.steps[0] as WsStep;
    expect(step.ws).toEqual({
      path: '/',
      hold: '10s',
      every: '1s',
      closeTimeout: '5s',
      calls: [
        { method: 'health', params: {} },
        { method: 'sessions.list', params: { limit: 5 } },
      ],
    });
    expect(step).toMatchObject({ kind: 'read', timeout: '30s' });
    expect(s.thresholds[1]?.select).toEqual({ steps: ['session.rpc'], methods: ['health'] });
  });

  it('a missing hold names the field', () => {
    expect(problemsOf((_d, st) => delete (st.ws as Record<string, unknown>).hold)).toEqual([`${at('ws.hold')}: required: expected string`]);
  });

  it('a bad interval, a call without method and an unknown field each name their field', () => {
    const p = problemsOf((_d, st) => {
      st.ws = { hold: '10s', every: 'often', calls: [{ params: {} }], interval: '1s' };
    });
    expect(p).toHaveLength(3);
    expect(p.find((l) => l.startsWith(`${at('ws.every')}: `))).toContain('often');
    expect(p).toContain(`${at('ws.calls[0].method')}: required: expected string`);
    expect(p).toContain(`${at('ws')}: unknown field "interval"`);
  });

  it('calls need a positive interval', () => {
    expect(problemsOf((_d, st) => ((st.ws as Record<string, unknown>).every = '0s'))).toEqual([`${at('ws.every')}: must be above 0 when calls are given`]);
  });

  it('HTTP-only fields are not accepted on a ws step', () => {
    expect(problemsOf((_d, st) => (st.expectStatus = [200]))).toEqual([`${FILE}: journeys[0].steps[0]: unknown field "expectStatus"`]);
  });

  it('a step must be exactly one of tool, http, ws — and a broken tool step still names its field', () => {
    expect(problemsOf((_d, st) => (st.tool = 'sessions_list'))).toEqual([`${FILE}: journeys[0].steps[0]: a step needs exactly one of tool, http, ws (has ws, tool)`]);
    expect(problemsOf((_d, st) => delete st.ws)).toEqual([`${FILE}: journeys[0].steps[0]: a step needs exactly one of tool, http, ws`]);
    expect(
      problemsOf((d) => {
        d.journeys = [{ name: 'j', steps: [{ name: 'x', tool: 5 }] }];
        d.thresholds = [];
      }),
    ).toEqual([`${FILE}: journeys[0].steps[0].tool: expected string, got number 5`]);
  });

  it('thresholds select the derived step names; the bare ws step name is refused with the names to use', () => {
    expect(
      problemsOf((d) => {
        d.thresholds = [{ name: 'x', metric: 'latency', select: { steps: ['session'] }, expr: 'p(95)<1s' }];
      }),
    ).toEqual([`${FILE}: thresholds[0].select.steps: "session" is a ws step; select its samples as "session.connect", "session.rpc", "session.close"`]);
    expect(
      problemsOf((d) => {
        d.thresholds = [{ name: 'x', metric: 'latency', select: { steps: ['session.send'] }, expr: 'p(95)<1s' }];
      }),
    ).toEqual([`${FILE}: thresholds[0].select.steps: no step named "session.send"`]);
  });

  it('a derived name may not collide with another step', () => {
    const p = problemsOf((d) => {
      (d.journeys as Array<{ steps: unknown[] }>)[0]!.steps.push({ name: 'session.rpc', tool: 'sessions_list' });
    });
    expect(p).toEqual([`${FILE}: journeys[0].steps[1].name: duplicate step name "session.rpc"`]);
  });
});

describe('target profile websocket block', () => {
  const profile = (extra: string) => `name: openclaw
gateways:
  - { name: gw0, url: http://127.0.0.1:18789 }
lb: http://127.0.0.1:18789
prometheus: { url: http://127.0.0.1:9090 }
tokens:
  gateway: { env: CS_TEST_GATEWAY_TOKEN }
${extra}`;

  it('takes the connect params of a real OpenClaw gateway exactly as profiles/openclaw.yaml writes them', () => {
    const p = parseTargetProfile(
      profile(
        "websocket: { connectParams: {minProtocol: 4, maxProtocol: 4, client: {id: gateway-client, version: '0.1.0', platform: linux, mode: backend}, role: operator, scopes: [operator.read, operator.write], caps: []} }\n",
      ),
      'profiles/openclaw.yaml',
    );
    expect(p.websocket?.connectParams).toEqual({
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: 'gateway-client', version: '0.1.0', platform: 'linux', mode: 'backend' },
      role: 'operator',
      scopes: ['operator.read', 'operator.write'],
      caps: [],
    });
    expect(parseTargetProfile(profile(''), 'profiles/x.yaml').websocket).toBeUndefined();
  });

  it('refuses auth in the params (the gateway token is sent as auth) and unknown fields', () => {
    const problems = (text: string): string[] => {
      try {
        parseTargetProfile(text, 'p.yaml');
      } catch (err) {
        return (err as ProfileError).problems;
      }
      throw new Error('expected a ProfileError');
    };
    expect(problems(profile('websocket: { connectParams: { auth: { token: x } } }\n'))).toEqual(['p.yaml: websocket.connectParams: must not carry auth (the gateway token is sent as auth)']);
    expect(problems(profile('websocket: { connect: {} }\n')).sort()).toEqual(['p.yaml: websocket.connectParams: required: expected record', 'p.yaml: websocket: unknown field "connect"']);
  });
});

describe('scenarios/openclaw', () => {
  const NAMES = ['ws-connection-storm', 'tools-invoke', 'hook-storm'];

  it('are not part of the plan listing (the gate and `run` name lists stay the five)', () => {
    expect(listScenarios()).not.toEqual(expect.arrayContaining(['ws-connection-storm']));
    expect(listScenarios().some((n) => n.includes('/'))).toBe(false);
    expect(fs.readdirSync(path.join(SCENARIO_DIR, 'openclaw')).sort()).toEqual(NAMES.map((n) => `${n}.yaml`).sort());
  });

  it.each(NAMES)('openclaw/%s loads by name with smoke and full, judged client-side only', (n) => {
    const s = resolveScenario(`openclaw/${n}`);
    expect(s.name).toBe(n);
    expect(Object.keys(s.profiles).sort()).toEqual(['full', 'smoke']);
    for (const e of Object.values(s.profiles)) expect(Number.isFinite(maxExecutorMs(e))).toBe(true);
    expect(s.thresholds.length).toBeGreaterThan(0);
    // A bare OpenClaw gateway exports no Prometheus metrics.
    expect(s.promql).toEqual([]);
    expect(s.figures).toEqual([]);
    expect(fs.readFileSync(s.file, 'utf8').startsWith('# ')).toBe(true);
  });

  it('the connection storm scores connect and RPC apart, and opens its sessions at once', () => {
    const s = resolveScenario('openclaw/ws-connection-storm');
    const selected = s.thresholds.flatMap((t) => t.select.steps ?? []);
    expect(selected).toEqual(expect.arrayContaining(['session.connect', 'session.rpc', 'session.close']));
    expect(s.profiles.smoke).toMatchObject({ executor: 'per-vu-iterations', iterations: 1, barrier: true });
    const step = s.journeys[0]?.steps[0] as WsStep;
    expect(step.ws.calls.map((c) => c.method)).toEqual(['health', 'status', 'sessions.list']);
  });

  it('the hook storm sends a per-iteration idempotency key with the hook token and accepts only 200', () => {
    const s = resolveScenario('openclaw/hook-storm');
    const step = s.journeys[0]?.steps[0];
    if (step === undefined || !('http' in step)) throw new Error('hook-storm: expected an http step');
    expect(step.http).toMatchObject({ method: 'POST', path: '/hooks/agent', token: 'hook', body: { name: 'clawstorm', deliver: false } });
    expect(step.http.headers['idempotency-key']).toMatch(/\{\{\s*iteration\s*\}\}/);
    expect(step.expectStatus).toEqual([200]);
  });
});
