// One scenario file as one k6 script in TypeScript (typed against @types/k6): its executor as a k6
// scenario, its client thresholds as k6 thresholds where k6 can express them, and its journeys as
// code — each step a function that sends what ClawStorm's engine sends, templates rendered per
// iteration. What a k6 run cannot do like ClawStorm is written at the top of the script.
import path from 'node:path';
import type { HttpStep, Journey, ScenarioFile, Step, ToolStep, WsStep } from '../../config/scenario.ts';
import { parseDuration } from '../../util/duration.ts';
import { weightedSequence } from '../../gate/journey.ts';
import { REPO_ROOT, tokenEnvVar, tokensUsed, type LoadProfile } from '../common.ts';
import type { TargetProfile } from '../../config/profile.ts';
import { k6Scenario } from './executor.ts';
import { ENV, RUNTIME_FILE } from './runtime.ts';
import { mapThresholds, httpCallTag } from './thresholds.ts';
import { literal, literalText, propertyKey, stringExpr, templateExpr, type TemplateScope } from './template.ts';

/**
 * The `connect` params ClawStorm's WebSocket driver sends by default (src/load/drivers/ws.ts),
 * under the target's `websocket.connectParams`; a k6 runner is a Linux container.
 */
const DEFAULT_CONNECT_PARAMS: Record<string, unknown> = {
  minProtocol: 3,
  maxProtocol: 3,
  client: { id: 'clawstorm', version: '0.1.0', platform: 'linux', mode: 'operator' },
  role: 'operator',
  scopes: ['operator.read', 'operator.write'],
  caps: [],
};

/**
 * k6's default system tags without `url` and `error`: with the remote-write output every tag is
 * a label, and URLs and error texts (a user id in a query, a policy id in a path) would make a
 * series per request. Requests are named by their path template instead (`name`).
 */
export const SYSTEM_TAGS = ['proto', 'subproto', 'status', 'method', 'name', 'group', 'check', 'error_code', 'tls_version', 'scenario', 'service', 'expected_response'];

export interface ScriptInput {
  scenario: ScenarioFile;
  profile: LoadProfile;
  target: TargetProfile;
}

export interface Script {
  file: string;
  text: string;
  /** Environment variables the script requires (name → what it is). */
  env: Record<string, string>;
}

export function scriptFileName(s: ScenarioFile): string {
  return `${s.name}.ts`;
}

const DEFAULT_EXPECT = [200, 201, 202, 204];

function ident(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** Text from a scenario file inside a block comment: it must not end the comment. */
function inComment(s: string): string {
  return s.replace(/\*\//g, '*\\/').replace(/[\r\n]+/g, ' ');
}

/** An expression as a string: literals are strings already; a variable may be a number. */
function asString(expr: string): string {
  return expr.startsWith('"') || expr.startsWith('`') ? expr : `String(${expr})`;
}

class Emitter {
  readonly s: ScenarioFile;
  readonly target: TargetProfile;
  private readonly expects = new Map<string, string>();
  readonly tokens = new Map<string, { constant: string; env: string }>();
  readonly runtimeImports = new Set<string>(['baseUrl', 'env', 'iterationVars', 'type Vars']);
  /** Set by the first ws step: the connect params the script declares once. */
  connectParams: Record<string, unknown> | undefined;

  constructor(s: ScenarioFile, target: TargetProfile) {
    this.s = s;
    this.target = target;
    for (const name of tokensUsed(s)) this.tokens.set(name, { constant: `TOKEN_${ident(name).toUpperCase()}`, env: tokenEnvVar(target.tokens[name], name) });
  }

  expectConst(codes: readonly number[]): string {
    const key = codes.join(',');
    let c = this.expects.get(key);
    if (c === undefined) {
      c = key === DEFAULT_EXPECT.join(',') ? 'EXPECT_2XX' : `EXPECT_${codes.join('_')}`;
      this.expects.set(key, c);
    }
    return c;
  }

  expectDecls(): string[] {
    return [...this.expects].map(([codes, c]) => `const ${c} = http.expectedStatuses(${codes.split(',').join(', ')});`);
  }

  token(name: string): string {
    return (this.tokens.get(name) as { constant: string }).constant;
  }

  where(ji: number, si: number, field: string): string {
    return `${this.s.file}: journeys[${ji}].steps[${si}].${field}`;
  }

  /**
   * The step's own headers, then ClawStorm's, which win over a step header of the same name (so
   * that one is left out: an object literal cannot name a key twice).
   */
  headers(token: string, own: ReadonlyArray<[string, string]>): string {
    const base: Array<[string, string]> = [['x-request-id', 'requestId'], ['x-user-id', 'String(v.user)']];
    if (this.s.tenants !== undefined) base.push(['x-tenant-id', 'String(v.tenant)']);
    base.push(['authorization', `"Bearer " + ${token}`]);
    const mine = new Set(base.map(([k]) => k));
    return `{ ${[...own.filter(([k]) => !mine.has(k)), ...base].map(([k, x]) => `${propertyKey(k)}: ${x}`).join(', ')} }`;
  }

  toolStep(step: ToolStep, ji: number, si: number, captured: Set<string>): string {
    this.runtimeImports.add('request');
    const scope: TemplateScope = { requestId: true, captured, step: step.name, where: this.where(ji, si, 'args') };
    const args = templateExpr(step.args, scope, '      ');
    return [
      `  await request(BASE_URL, {`,
      `    method: "POST",`,
      `    path: "/tools/invoke",`,
      `    headers: ${this.headers(this.token('gateway'), [])},`,
      `    body: {`,
      `      tool: ${quote(step.tool)},`,
      `      args: ${args},`,
      `    },`,
      `    tags: ${this.tags(step, step.tool, '/tools/invoke')},`,
      `    timeout: ${quote(step.timeout)},`,
      `    expect: ${this.expectConst(step.expectStatus ?? DEFAULT_EXPECT)},`,
      `  });`,
    ].join('\n');
  }

  httpStep(step: HttpStep, ji: number, si: number, captured: Set<string>): string {
    this.runtimeImports.add('request');
    const h = step.http;
    const pathExpr = stringExpr(h.path, { requestId: false, captured, step: step.name, where: this.where(ji, si, 'http.path') });
    const own = Object.entries(h.headers).map(
      ([k, x]): [string, string] => [k, asString(stringExpr(x, { requestId: true, captured, step: step.name, where: this.where(ji, si, `http.headers.${k}`) }))],
    );
    const body = h.body === undefined ? undefined : templateExpr(h.body, { requestId: true, captured, step: step.name, where: this.where(ji, si, 'http.body') }, '    ');
    const pathTemplate = h.path.split('?')[0] as string;
    const call = `  ${Object.keys(step.capture).length > 0 ? 'const answer = ' : ''}await request(BASE_URL, {`;
    const lines = [
      call,
      `    method: ${quote(h.method)},`,
      `    path: ${asString(pathExpr)},`,
      `    headers: ${this.headers(this.token(h.token), own)},`,
      ...(body === undefined ? [] : [`    body: ${body},`]),
      `    tags: ${this.tags(step, httpCallTag(step), pathTemplate)},`,
      `    timeout: ${quote(step.timeout)},`,
      `    expect: ${this.expectConst(step.expectStatus ?? DEFAULT_EXPECT)},`,
      `  });`,
    ];
    if (Object.keys(step.capture).length > 0) {
      this.runtimeImports.add('capture');
      lines.push(`  capture(v, answer, ${literal(step.capture)});`);
    }
    return lines.join('\n');
  }

  wsStep(step: WsStep, ji: number, si: number, captured: Set<string>): string {
    this.runtimeImports.add('wsStep');
    this.runtimeImports.add('wsUrl');
    const calls = step.ws.calls.map(
      (c, ci) => `{ method: ${quote(c.method)}, params: ${templateExpr(c.params, { requestId: false, captured, step: step.name, where: this.where(ji, si, `ws.calls[${ci}].params`) }, '      ')} }`,
    );
    this.connectParams = { ...DEFAULT_CONNECT_PARAMS, ...(this.target.websocket?.connectParams ?? {}) };
    return [
      `  await wsStep({`,
      `    name: ${quote(step.name)},`,
      `    kind: ${quote(step.kind)},`,
      `    url: wsUrl(BASE_URL, ${quote(step.ws.path)}),`,
      `    token: ${this.token('gateway')},`,
      `    connectParams: CONNECT_PARAMS,`,
      `    timeoutMs: ${parseDuration(step.timeout)},`,
      `    holdMs: ${parseDuration(step.ws.hold)},`,
      `    everyMs: ${parseDuration(step.ws.every)},`,
      `    closeTimeoutMs: ${parseDuration(step.ws.closeTimeout)},`,
      `    calls: [${calls.length === 0 ? '' : `\n      ${calls.join(',\n      ')},\n    `}],`,
      `  });`,
    ].join('\n');
  }

  tags(step: Step, call: string, name: string): string {
    return `{ step: ${quote(step.name)}, kind: ${quote(step.kind)}, call: ${quote(call)}, name: ${quote(name)} }`;
  }
}

export function generateScript(input: ScriptInput): Script {
  const { scenario: s, profile, target } = input;
  const cfg = s.profiles[profile];
  if (cfg === undefined) throw new Error(`scenario ${s.name} has no profile ${profile}`);
  const em = new Emitter(s, target);
  const exec = k6Scenario(cfg, `${s.file}: profiles.${profile}`);
  const th = mapThresholds(s);

  // Steps, one function each; journeys call them in order or all at once.
  const stepFns: string[] = [];
  const journeyFns: string[] = [];
  s.journeys.forEach((j: Journey, ji) => {
    const captured = new Set(j.steps.flatMap((st) => ('capture' in st ? Object.keys(st.capture) : [])));
    const names: string[] = [];
    j.steps.forEach((st, si) => {
      const fn = `step${ji}_${si}_${ident(st.name)}`;
      names.push(fn);
      let body: string;
      if ('ws' in st) body = em.wsStep(st, ji, si, captured);
      else if ('tool' in st) body = em.toolStep(st, ji, si, captured);
      else body = em.httpStep(st, ji, si, captured);
      const needsRequestId = !('ws' in st);
      stepFns.push(
        [
          `/** ${inComment(`${s.journeys.length > 1 ? `${j.name}: ` : ''}${st.name} (${st.kind}${'tool' in st ? `, tool ${st.tool}` : 'http' in st ? `, ${httpCallTag(st)}` : ', WebSocket session'})`)}. */`,
          `async function ${fn}(v: Vars): Promise<void> {`,
          // ClawStorm's request id: run, scenario, run-wide iteration, step.
          ...(needsRequestId ? [`  const requestId = \`\${v.run}.${literalText(s.name)}.\${v.iteration}.${literalText(st.name)}\`;`] : []),
          body,
          `}`,
        ].join('\n'),
      );
    });
    const think = j.thinkTime === undefined ? 0 : parseDuration(j.thinkTime) / 1000;
    const run = j.parallel ? [`  await Promise.all([${names.map((n) => `${n}(v)`).join(', ')}]);`] : names.map((n) => `  await ${n}(v);`);
    journeyFns.push(
      [
        `/** Journey ${quote(j.name)}${s.journeys.length > 1 ? ` (weight ${j.weight})` : ''}${j.parallel ? ': all steps at once' : ''}${think > 0 ? `, then ${j.thinkTime} of think time` : ''}. */`,
        `async function journey${ji}(v: Vars): Promise<void> {`,
        ...run,
        ...(think > 0 ? [`  sleep(${think});`] : []),
        `}`,
      ].join('\n'),
    );
  });

  if (stepFns.some((f) => f.includes('need(v, '))) em.runtimeImports.add('need');

  const options = {
    scenarios: { [s.name]: exec.scenario },
    thresholds: th.thresholds,
    systemTags: SYSTEM_TAGS,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  };

  const envs: Record<string, string> = { [ENV.runId]: 'the run id: names every request id and idempotency key of the run' };
  for (const [name, t] of em.tokens) envs[t.env] = `the ${name} token of target ${target.name}`;

  const multi = s.journeys.length > 1;
  const mix = multi ? weightedSequence(s.journeys.map((j) => j.weight)) : [];
  const usesSleep = s.journeys.some((j) => j.thinkTime !== undefined && parseDuration(j.thinkTime) > 0);

  const header = headerComment(input, th, exec.notes, envs);
  const declaredExpects = em.expectDecls();
  const imports = [
    ...(declaredExpects.length > 0 ? [`import http from 'k6/http';`] : []),
    ...(usesSleep ? [`import { sleep } from 'k6';`] : []),
    `import type { Options } from 'k6/options';`,
    `import { ${[...em.runtimeImports].sort((a, b) => a.replace('type ', '').localeCompare(b.replace('type ', ''))).join(', ')} } from './${RUNTIME_FILE}';`,
  ];
  const decls = [
    `const BASE_URL = baseUrl(${quote(target.lb ?? '')});`,
    `const RUN_ID = env(${quote(ENV.runId)}, ${quote(envs[ENV.runId] as string)});`,
    ...[...em.tokens].map(([name, t]) => `const ${t.constant} = env(${quote(t.env)}, ${quote(`the ${name} token of target ${target.name}`)});`),
    `const TENANTS: number | undefined = ${s.tenants ?? 'undefined'};`,
    ...declaredExpects,
    ...(em.connectParams === undefined ? [] : [`/** The gateway's connect params for this target (the token is added per session). */`, `const CONNECT_PARAMS: Record<string, unknown> = ${literal(em.connectParams)};`]),
  ];
  const main = multi
    ? [
        `/** Journey of each iteration: the mix ${s.journeys.map((j) => j.weight).join('/')}, interleaved as ClawStorm does (every ${mix.length} iterations hold it exactly). */`,
        `const MIX: number[] = ${literal(mix)};`,
        `const JOURNEYS: Array<(v: Vars) => Promise<void>> = [${s.journeys.map((_, i) => `journey${i}`).join(', ')}];`,
        '',
        `export default async function (): Promise<void> {`,
        `  const v = iterationVars(RUN_ID, TENANTS);`,
        `  const journey = JOURNEYS[MIX[v.iteration % MIX.length] as number] as (v: Vars) => Promise<void>;`,
        `  await journey(v);`,
        `}`,
      ]
    : [`export default async function (): Promise<void> {`, `  await journey0(iterationVars(RUN_ID, TENANTS));`, `}`];

  const text = [
    header,
    imports.join('\n'),
    '',
    `export const options: Options = ${literal(options)};`,
    '',
    decls.join('\n'),
    '',
    stepFns.join('\n\n'),
    '',
    journeyFns.join('\n\n'),
    '',
    main.join('\n'),
    '',
  ].join('\n');
  return { file: scriptFileName(s), text, env: envs };
}

function headerComment(input: ScriptInput, th: ReturnType<typeof mapThresholds>, notes: string[], envs: Record<string, string>): string {
  const { scenario: s, profile, target } = input;
  const rel = path.relative(REPO_ROOT, s.file);
  const source = rel.startsWith('..') ? s.file : rel;
  const lines: string[] = [
    `${s.title}: ClawStorm scenario ${s.name}, load profile ${profile}, target ${target.name}.`,
    `Written by \`clawstorm export k6\` from ${source}: do not edit, change the scenario and export again.`,
    '',
    'Run on one machine:',
    `  k6 run ${Object.keys(envs).map((e) => `-e ${e}=…`).join(' ')} ${scriptFileName(s)}`,
    `  (${ENV.baseUrl} overrides the target's load balancer ${target.lb ?? '(none)'}.)`,
    'Run distributed: the k6-operator TestRun exported beside this script; its runners pass',
    '--no-thresholds (each sees only its own execution segment) and `clawstorm judge` gives the',
    'one verdict from the samples all runners remote-wrote to Prometheus.',
    '',
    'Pass criteria (the same in every load profile):',
  ];
  if (th.mapped.length > 0) {
    lines.push('  As k6 thresholds (below):');
    for (const m of th.mapped) lines.push(`    ${m.name}: ${m.metric} ${m.expr}`);
  }
  if (th.notExpressed.length > 0) {
    lines.push('  Judged by `clawstorm judge` only, k6 cannot express them:');
    for (const n of th.notExpressed) lines.push(`    ${n.name}: ${n.why}`);
  }
  if (s.promql.length > 0) {
    lines.push('  PromQL, judged by `clawstorm judge` from Prometheus:');
    for (const p of s.promql) lines.push(`    ${p.name}`);
  }
  const diffs = [
    ...notes,
    ...(th.families.has('http') ? ["HTTP latency is k6's http_req_duration (sending to last byte, without queueing and connection set-up); ClawStorm times the whole request"] : []),
    ...(s.verify.some((v) => v.kind === 'audit-lookup') ? ['verify audit-lookup: a k6 run does not keep the acknowledged writes, so they are not looked up afterwards; the figures built on it are no data'] : []),
    ...(s.figures.length > 0 ? [`figures (${s.figures.map((f) => f.name).join(', ')}): read from Prometheus by the judge, as in a ClawStorm run`] : []),
    ...(s.generator !== undefined ? ['generator bounds: ClawStorm watches its own load generator; watch the k6 runners\' CPU yourself'] : []),
  ];
  lines.push('', 'Where a k6 run differs from a ClawStorm run:');
  for (const d of diffs) lines.push(`  - ${d}`);
  // Titles and names come from the scenario file: a line break in one must not end the comment.
  return lines
    .flatMap((l) => l.split(/\r?\n/))
    .map((l) => (l === '' ? '//' : `// ${l}`))
    .join('\n') + '\n';
}
