// The gate end to end: `bin/clawstorm run <scenario file>` against the shared test bed, with
// small variants of the real scenarios (same journeys and pass criteria, fewer users) so each
// run takes seconds. Faults that must make a run fail are injected through the admin routes of
// every gateway / the upstreams and always rolled back (the bed is shared with other files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { PromClient } from '../../src/prom/client.ts';
import { waitFor } from '../../src/util/wait.ts';
import YAML from 'yaml';
import { z } from 'zod';
import { readResults, type Results, type ScenarioResult } from '../../src/report/results.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { freePort } from '../../src/util/ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const adminToken = readTokenFile(tb.tokenFiles.admin);
const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const FIXTURE = path.join(REPO, 'test/fixtures/gate/team-plan.md');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-gate-it-'));

// ── helpers ──────────────────────────────────────────────────────────────────

interface CliRun {
  exitCode: number;
  stderr: string;
  stdout: string;
  out: string;
}

let runs = 0;
/** One CLI run against the shared bed; reports go to a fresh directory. */
async function clawstorm(args: string[], opts: { out?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const out = opts.out ?? path.join(work, `out-${++runs}`);
  const r = await execa(CLI, [...args, '--testbed-state', tb.stateDir, '--out', out], {
    env: { CI: 'true' },
    reject: false,
    timeout: opts.timeoutMs ?? 150_000,
    cwd: work,
  });
  if (r.timedOut) throw new Error(`clawstorm ${args.join(' ')} timed out; stderr:\n${r.stderr}`);
  return { exitCode: r.exitCode ?? -1, stderr: r.stderr, stdout: r.stdout, out };
}

/** A real scenario file with a smaller `smoke` load shape; everything else as shipped (or `edit`ed). */
function variant(name: string, smoke: Record<string, unknown>, tag = 'v', edit?: (doc: Record<string, unknown>) => void): string {
  const doc = YAML.parse(fs.readFileSync(path.join(REPO, 'scenarios', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
  doc.profiles = { ...(doc.profiles as Record<string, unknown>), smoke };
  // Generator bounds with room for a busy shared host: these runs check what the gate catches
  // (injected latency, dropped writes, lost reads), not whether a 2-core box shared with other
  // suites keeps its event loop under 50 ms (the monitor's own tests do that). A saturated
  // generator would turn every client verdict, the injected failures included, inconclusive.
  doc.generator = { eventLoopP99Ms: 500, eventLoopMaxMs: 5_000, pacerLagP99Ms: 1_000, cpuSustainedS: 3_600 };
  edit?.(doc);
  const dir = path.join(work, `${tag}-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

// Policy evaluation: 6 users × 30 guarded calls (the shipped journey, 500 ms think time). Enough
// samples that the users' first calls (new connections) do not make the P95 on their own.
const POLICY_SHAPE = { executor: 'per-vu-iterations', vus: 6, iterations: 30, maxDuration: '2m' };
const POLICY = variant('policy-evaluation', POLICY_SHAPE);
// The run that must pass proves the gate's plumbing (exit 0, every format, --fill), not that a
// shared 2-core machine meets the plan's 100 ms: its latency limits leave room (2 s / 5 s), its
// error limits stay as shipped. The plan's own limits are held by the fault tests below and the
// smoke gate.
const POLICY_ROOMY = variant('policy-evaluation', POLICY_SHAPE, 'roomy', (doc) => {
  const roomy = (ms: number) => (ms <= 100 ? 2_000 : 5_000);
  doc.thresholds = (doc.thresholds as Array<{ name: string; metric: string; expr: string }>).map((t) => {
    const m = /^p\((\d+)\)<(\d+)ms$/.exec(t.expr);
    if (t.metric !== 'latency' || !m) return t;
    const ms = roomy(Number(m[2]));
    return { ...t, name: `P${m[1]} < ${ms / 1000} s (end to end, room for a busy host)`, expr: `p(${m[1]})<${ms}ms` };
  });
  doc.promql = (doc.promql as Array<{ name: string; query: string; value: number; unit?: string }>).map((q) =>
    q.unit === 's' && q.query.startsWith('histogram_quantile') ? { ...q, name: `${q.name}, with room (< ${roomy(q.value * 1000) / 1000} s)`, value: roomy(q.value * 1000) / 1000 } : q,
  );
});
// Audit write: 400 acknowledged writes, every one looked up again afterwards.
const AUDIT = variant('audit-write', { executor: 'shared-iterations', vus: 10, iterations: 400, maxDuration: '2m' });
// Connector burst: 40 users read all five connectors at once (200 reads).
const BURST = variant('connector-burst', { executor: 'per-vu-iterations', vus: 40, iterations: 1, barrier: true, maxDuration: '2m', gracefulStop: '60s' });

async function admin(url: string, method: string, body?: unknown): Promise<unknown> {
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${text}`);
  return text === '' ? null : JSON.parse(text);
}
const everyGateway = (p: string, method: string, body?: unknown) => Promise.all(tb.gateways.map((g) => admin(`${g.url}${p}`, method, body)));

const FaultsWire = z.object({ latencyMs: z.number(), auditDropRate: z.number() }).passthrough();

function scenario(r: Results, name: string): ScenarioResult {
  const s = r.scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`results have no scenario ${name}`);
  return s;
}

function threshold(s: ScenarioResult, name: string) {
  const t = s.thresholds.find((x) => x.name === name);
  if (!t) throw new Error(`${s.name} has no threshold ${JSON.stringify(name)} (has ${s.thresholds.map((x) => x.name).join(', ')})`);
  return t;
}

/** Everything in the results that did not pass, for assertion messages. */
function notPassing(r: Results): string {
  const lines = [
    ...r.scenarios.flatMap((s) => s.thresholds.filter((t) => t.verdict !== 'pass').map((t) => `${s.name} / ${t.name}: ${t.verdict} — ${t.detail}`)),
    ...r.metrics.filter((m) => m.verdict !== 'pass').map((m) => `metrics / ${m.metric}${m.gate ? '' : ' (not gated)'}: ${m.verdict} — ${m.detail}`),
    ...r.reasons.map((x) => `reason: ${x}`),
  ];
  return lines.join('\n');
}

/** Prometheus shows no database connection checked out on any gateway for the last 5 s. */
async function waitForIdleFleet(): Promise<void> {
  const prom = new PromClient({ url: tb.prometheus.url });
  const inUse = 'max_over_time((sum(openclaw_db_pool_connections{job="gateway",state="total"}) - sum(openclaw_db_pool_connections{job="gateway",state="idle"}))[5s:1s])';
  await waitFor(
    async () => {
      const r = await prom.instant(inUse);
      return r.type === 'vector' && r.series.length === 1 && r.series[0]!.v === 0;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the shared test bed to go idle (no DB connection in use for 5 s)' },
  );
}

// Whatever a test changed goes back, even when it failed half way.
let upstreamSaved: unknown;
beforeAll(async () => {
  upstreamSaved = await admin(`${tb.upstreams.url}/admin/config`, 'GET');
});
afterEach(async () => {
  await everyGateway('/admin/faults/reset', 'POST');
  await everyGateway('/admin/connectors', 'PATCH', { retries: true });
  await admin(`${tb.upstreams.url}/admin/config`, 'PUT', upstreamSaved);
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

// ── a passing run, its reports, and --fill ────────────────────────────────────

describe('a small policy-evaluation run', () => {
  const team = path.join(work, 'team-plan.md');
  let run: CliRun;
  let results: Results;

  beforeAll(async () => {
    fs.copyFileSync(FIXTURE, team);
    // The bed is shared: the run's metric rows (pool utilisation, P95s) look one scrape before its
    // start, so wait until the previous file's traffic has left the pools (condition, deadline).
    await waitForIdleFleet();
    const t0 = Date.now();
    run = await clawstorm(['run', POLICY_ROOMY, '--fill', team]);
    process.stderr.write(`[gate.test] policy run: exit ${run.exitCode} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    results = readResults(path.join(run.out, 'results.json'));
  }, 200_000);

  it('passes: exit 0, every threshold of the scenario passes', () => {
    expect(run.exitCode, `${notPassing(results)}\n--- stderr ---\n${run.stderr}`).toBe(0);
    expect(results).toMatchObject({ verdict: 'pass', exitCode: 0, aborted: false, profile: 'smoke' });
    const s = scenario(results, 'policy-evaluation');
    expect(s.status).toBe('Pass');
    expect(s.requests).toBe(6 * 30);
    expect(s.errors).toBe(0);
    // The shipped criteria, all judged: 3 client-side, 4 from Prometheus.
    expect(s.thresholds.map((t) => `${t.source}:${t.verdict}`).sort()).toEqual([...Array(3).fill('client:pass'), ...Array(4).fill('promql:pass')]);
  });

  it('writes results.json (valid), results.md, junit.xml and report.html', () => {
    // readResults validated the schema; the other four template rows are there and not run.
    expect(results.scenarios.map((s) => `${s.title}: ${s.status}`)).toEqual([
      'Briefing Generation: Not run',
      'Policy Evaluation: Pass',
      'Audit Write: Not run',
      'Connector Burst: Not run',
      'Mixed Workload: Not run',
    ]);

    const md = fs.readFileSync(path.join(run.out, 'results.md'), 'utf8');
    expect(md).toContain('| Scenario | P50 | P95 | P99 | Error Rate | Status |\n|---|---|---|---|---|---|\n| Briefing Generation | -- | -- | -- | -- | Not run |\n| Policy Evaluation | ');
    expect(md).toMatch(/^\| Policy Evaluation \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| 0\.00% \| Pass \|$/m);
    for (const title of ['Audit Write', 'Connector Burst', 'Mixed Workload']) expect(md).toContain(`| ${title} | -- | -- | -- | -- | Not run |`);

    // junit: one testcase per threshold (and per metric row), in one suite per scenario.
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(
      fs.readFileSync(path.join(run.out, 'junit.xml'), 'utf8'),
    ) as { testsuites: { testsuite: Array<{ id: string; testcase?: Array<{ name: string; failure?: unknown }> }> } };
    const suites = xml.testsuites.testsuite;
    const policy = suites.find((s) => s.id === 'policy-evaluation');
    const s = scenario(results, 'policy-evaluation');
    expect(policy?.testcase?.map((c) => c.name.split(':')[0])).toEqual(s.thresholds.map((t) => t.name));
    expect(policy?.testcase?.filter((c) => c.failure !== undefined)).toEqual([]);
    const all = suites.flatMap((x) => x.testcase ?? []);
    // Per scenario its thresholds, the run's own (the probes') and each metric row.
    expect(all).toHaveLength(results.scenarios.reduce((a, x) => a + x.thresholds.length, 0) + results.thresholds.length + results.metrics.length);
    expect(results.thresholds.map((t) => t.name)).toContain('no gateway degraded (fails closed)');

    const html = fs.readFileSync(path.join(run.out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('Policy Evaluation');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/i); // self-contained
  });

  it('--fill fills the team’s table in place, touching no other byte; filling again is a no-op', async () => {
    const before = fs.readFileSync(FIXTURE, 'utf8');
    const after = fs.readFileSync(team, 'utf8');
    const header = '| Scenario | P50 | P95 | P99 | Error Rate | Status |\n';
    const start = before.indexOf(header);
    const end = before.indexOf('\n\nScaling Recommendations') + 1;
    expect(start).toBeGreaterThan(0);
    const head = before.slice(0, start);
    const tail = before.slice(end);
    expect(after.startsWith(head)).toBe(true);
    expect(after.endsWith(tail)).toBe(true);
    const table = after.slice(head.length, after.length - tail.length);
    const s = scenario(results, 'policy-evaluation');
    const rows = table.trimEnd().split('\n');
    expect(rows).toHaveLength(7);
    expect(rows[0]).toBe(header.trimEnd());
    expect(rows[2]).toBe('| Briefing Generation | -- | -- | -- | -- | Not run |');
    expect(rows[3]).toMatch(new RegExp(`^\\| Policy Evaluation \\| [\\d.]+ ms \\| [\\d.]+ ms \\| [\\d.]+ ms \\| 0\\.00% \\| ${s.status} \\|$`));
    expect(rows[3]).not.toContain('--');
    // The same row as the standalone results.md.
    expect(fs.readFileSync(path.join(run.out, 'results.md'), 'utf8')).toContain(`${rows[3]}\n`);
    // The table quoted in the code block is not the template: untouched (it is part of `tail`).
    expect(tail).toContain('| quoted in a code block | stays | as | is | -- | Not run |');

    const filled = fs.readFileSync(team);
    const again = await execa(CLI, ['report', 'fill', team, '--from', path.join(run.out, 'results.json')], { env: { CI: 'true' }, reject: false, timeout: 60_000 });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('already up to date');
    expect(fs.readFileSync(team).equals(filled)).toBe(true);
    expect(fs.readFileSync(team, 'utf8').split(header).length - 1).toBe(2); // the template and the quoted one
  });
});

// ── runs that must fail ────────────────────────────────────────────────────────

describe('failures the gate must catch', () => {
  it('latency injected above the bound: exit 1, P95 < 100 ms fails (inconclusive only when the host was saturated)', async () => {
    const faults = await everyGateway('/admin/faults', 'PUT', { latencyMs: 150 });
    for (const f of faults) expect(FaultsWire.parse(f).latencyMs).toBe(150);
    const run = await clawstorm(['run', POLICY]);
    const r = readResults(path.join(run.out, 'results.json'));
    const s = scenario(r, 'policy-evaluation');
    const p95 = threshold(s, 'P95 < 100 ms (end to end)');
    // The measurement is strict whatever the host: the injected 150 ms was measured, and failed.
    expect(p95.observed, notPassing(r)).toBeGreaterThanOrEqual(150);
    expect(s.errors).toBe(0); // nothing was refused: it is slow, not broken
    // The verdict follows the product's rule: on a local bed whose host was saturated (≥ 90 % CPU)
    // a failed latency is inconclusive, saying it measured a fail; otherwise it fails.
    const busyHost = s.reasons.some((x) => x.startsWith('host saturated'));
    if (busyHost) {
      process.stderr.write(`[gate.test] host saturated during the injected-latency run: ${s.reasons.join('; ')}\n`);
      expect(p95, notPassing(r)).toMatchObject({ verdict: 'inconclusive', detail: expect.stringMatching(/host saturated.*\(measured fail\)/) });
      expect(run.exitCode, run.stderr).toBe(3);
      return;
    }
    expect(run.exitCode, run.stderr).toBe(1);
    expect(r.verdict).toBe('fail');
    expect(s.status).toBe('Fail');
    expect(p95.verdict).toBe('fail');
    expect(run.stderr).toMatch(/Fail +P95 < 100 ms \(end to end\)/);
  });

  it('dropped audit writes: exit 1 with audit_dropped > 0; without the fault none are dropped', async () => {
    const faults = await everyGateway('/admin/faults', 'PUT', { auditDropRate: 0.05 });
    for (const f of faults) expect(FaultsWire.parse(f).auditDropRate).toBe(0.05);
    const bad = await clawstorm(['run', AUDIT]);
    const rb = readResults(path.join(bad.out, 'results.json'));
    const sb = scenario(rb, 'audit-write');
    expect(bad.exitCode, bad.stderr).toBe(1);
    expect(sb.errors).toBe(0); // every write was acknowledged…
    expect(sb.extra.audit_acknowledged).toBe(400);
    expect(sb.extra.audit_lookup_via).toBe('sql');
    expect(sb.extra.audit_dropped).toBeGreaterThan(0); // …and some are not in the store
    expect(sb.extra.audit_found).toBe(400 - Number(sb.extra.audit_dropped));
    expect(threshold(sb, 'zero dropped entries')).toMatchObject({ verdict: 'fail', observed: sb.extra.audit_dropped });

    await everyGateway('/admin/faults/reset', 'POST');
    const good = await clawstorm(['run', AUDIT]);
    const rg = readResults(path.join(good.out, 'results.json'));
    const sg = scenario(rg, 'audit-write');
    expect(sg.extra.audit_acknowledged).toBe(400);
    expect(sg.extra.audit_dropped, good.stderr).toBe(0);
    expect(threshold(sg, 'zero dropped entries')).toMatchObject({ verdict: 'pass', observed: 0 });
  });
});

describe('upstream 429s with connector retries switched off', () => {
  let run: CliRun;
  let s: ScenarioResult;

  beforeAll(async () => {
    // Shared (app) budgets far below a 200-read burst: most first attempts get 429.
    const tight = {
      limits: Object.fromEntries(['gmail', 'calendar', 'jira', 'github', 'gdrive'].map((p) => [p, { perApp: { capacity: p === 'gmail' ? 50 : 10, refillPerSec: p === 'gmail' ? 100 : 20 } }])),
    };
    try {
      await admin(`${tb.upstreams.url}/admin/config`, 'PUT', tight);
      const switched = await everyGateway('/admin/connectors', 'PATCH', { retries: false });
      for (const x of switched) expect(x).toMatchObject({ retries: false });
      run = await clawstorm(['run', BURST]);
    } finally {
      await everyGateway('/admin/connectors', 'PATCH', { retries: true });
      await admin(`${tb.upstreams.url}/admin/config`, 'PUT', upstreamSaved);
    }
    s = scenario(readResults(path.join(run.out, 'results.json')), 'connector-burst');
  }, 200_000);

  it('a connector burst exits 1: reads lost', () => {
    expect(run.exitCode, run.stderr).toBe(1);
    expect(s.requests).toBe(200);
    expect(s.errors).toBeGreaterThan(0);
    expect(threshold(s, 'none lost (every read answered)')).toMatchObject({ verdict: 'fail', observed: s.errors });
  });

  it('the server-side checks do not pass a burst whose reads failed with gateway 5xx', () => {
    // The lost reads were 503s of the gateways (typed connector_rate_limited), so "No gateway
    // 5xx" and "No connector read failed after retries" must not read as passes.
    expect(s.errors).toBeGreaterThan(0);
    for (const name of ['No gateway 5xx', 'No connector read failed after retries']) {
      const t = threshold(s, name);
      expect(t.verdict, `${name}: ${t.verdict}, observed ${t.observed} — ${t.detail}\n${t.query ?? ''}\nwindow ${s.startedAt} … ${s.endedAt}`).not.toBe('pass');
    }
  });
});

// ── errors before any load ─────────────────────────────────────────────────────

describe('errors before any load', () => {
  it('Prometheus unreachable: exit 3, one line naming Prometheus', async () => {
    // A copy of the bed's state whose Prometheus is a loopback port nobody listens on; the
    // shared Prometheus keeps running.
    const port = await freePort();
    const dead = `http://127.0.0.1:${port}`;
    const dir = path.join(work, 'dead-prometheus-bed');
    fs.mkdirSync(dir, { recursive: true });
    const state = JSON.parse(fs.readFileSync(path.join(tb.stateDir, 'state.json'), 'utf8')) as { endpoints: { prometheus: { url: string } } };
    state.endpoints.prometheus.url = dead;
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state), { mode: 0o600 });

    const out = path.join(work, 'out-dead-prometheus');
    const r = await execa(CLI, ['run', POLICY, '--testbed-state', dir, '--out', out], { env: { CI: 'true' }, reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stderr).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^clawstorm: Prometheus at /);
    expect(lines[0]).toContain(dead);
    expect(lines[0]).toMatch(/ECONNREFUSED|not answering|unreachable/);
    // Nothing ran, so nothing was reported as a result.
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
  });

  it('unknown scenario: exit 2, naming it and the known ones', async () => {
    const r = await clawstorm(['run', 'no-such-scenario']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario "no-such-scenario"; known: .*policy-evaluation/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('unknown profile: exit 2, naming the profile and the ones there are', async () => {
    const r = await clawstorm(['run', POLICY, '--profile', 'weekend']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('"weekend"');
    expect(r.stderr).toContain(POLICY);
    expect(r.stderr).toMatch(/has full, smoke/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
