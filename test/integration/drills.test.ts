// Chaos drills against the shared local test bed: a drill that passes, one that fails (the
// survivor is slowed too, the hypothesis deviates), token rotation, disk watermarks, a harness
// killed mid-fault whose faults `clawstorm drill rollback` undoes, and the refusals (bad file,
// a profile without allowChaos). Every test leaves the bed as it found it (afterEach).
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import YAML from 'yaml';
import { readResults } from '../../src/report/results.ts';
import { runDrill, type DrillOutcome } from '../../src/chaos/engine.ts';
import { readJournal } from '../../src/faults/journal.ts';
import { resolveDrill } from '../../src/chaos/schema.ts';
import { resolveChaosTarget, type ChaosTarget } from '../../src/target/target.ts';
import { procState } from '../../src/util/supervise.ts';
import { processPid, startGateway } from '../../src/testbed/control.ts';
import { setState, setWeight, showServersState } from '../../src/lb/runtime.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';
import { PromClient } from '../../src/prom/client.ts';
import { startPrometheusDouble } from '../support/prometheus-double.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const REPO = path.resolve(import.meta.dirname, '../..');
// bin/clawstorm runs the pinned Node 24 whatever `node` the test runner found (it execs, so the
// child's pid is the CLI's own).
const CLI = path.join(REPO, 'bin/clawstorm');
const admin = readTokenFile(tb.tokenFiles.admin);
const gatewayToken = readTokenFile(tb.tokenFiles.gateway);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-drills-'));
// Journals of these tests stay out of the user's journal dir.
process.env.CLAWSTORM_JOURNAL_DIR = path.join(tmp, 'journals');

const FaultsSchema = z.object({ latencyMs: z.number(), errorRate: z.number(), diskUsedRatio: z.number(), degraded: z.boolean(), draining: z.boolean() });
const DEFAULT_FAULTS = { latencyMs: 0, errorRate: 0, diskUsedRatio: 0.42, degraded: false, draining: false };

async function adminJson(url: string, method: string, p: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(r.status, `${method} ${p}`).toBe(200);
  return r.json();
}

/** Every gateway running and healthy, default faults and token, every server ready at weight 100. */
async function restoreBed(): Promise<void> {
  for (const g of tb.gateways) await startGateway(tb, g.id, { timeoutMs: 30_000 });
  for (const g of tb.gateways) {
    await adminJson(g.url, 'POST', '/admin/faults/reset');
    await adminJson(g.url, 'PUT', '/admin/tokens', { gateway: [gatewayToken] });
  }
  for (const s of await showServersState(tb)) {
    if (s.adminState !== 'ready') await setState(tb, s.name, 'ready');
    if (s.weight !== 100) await setWeight(tb, s.name, 100);
  }
  await waitFor(async () => (await showServersState(tb)).every((s) => s.opState === 'UP' && s.checkStatus.startsWith('L7OK')), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'every gateway UP in HAProxy again',
  });
}

/** What a finished drill must have left: the bed exactly as restoreBed() sets it. */
async function expectBedRestored(): Promise<void> {
  for (const g of tb.gateways) {
    const pid = processPid(tb, g.id);
    expect(pid, `${g.id} running`).toBeDefined();
    expect(procState(pid!), `${g.id} not stopped`).not.toMatch(/^[Tt]$/);
    const f = FaultsSchema.parse(await adminJson(g.url, 'GET', '/admin/faults'));
    expect(f, `${g.id} faults`).toMatchObject(DEFAULT_FAULTS);
  }
  const servers = await waitFor(
    async () => {
      const s = await showServersState(tb);
      return s.every((x) => x.opState === 'UP') ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'every server UP again' },
  );
  for (const s of servers) {
    expect(s.adminState, `${s.name} admin state`).toBe('ready');
    expect(s.weight, `${s.name} weight`).toBe(100);
  }
}

function cli(args: string[], timeoutMs = 120_000): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CLI, args, { cwd: REPO, timeout: timeoutMs, env: process.env }, (err, _stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? -1 : 0;
      resolve({ code, stderr });
    });
  });
}

/** Why a drill did not come out as expected: its verdict reasons and every threshold that did not pass. */
function why(o: Pick<DrillOutcome, 'result' | 'verdict'>): string {
  const failed = (o.result.thresholds ?? []).filter((t) => t.verdict !== 'pass').map((t) => `${t.name}: ${t.verdict} (observed ${t.observed ?? 'no data'}) — ${t.detail ?? ''}`);
  return [`verdict ${o.verdict.verdict}`, ...o.verdict.reasons.map((r) => `reason: ${r}`), ...(o.result.reasons ?? []).map((r) => `drill: ${r}`), ...failed].join('\n');
}

/** The same from a CLI run's results.json (when it wrote one), then the tail of its stderr. */
function whyRun(out: string, stderr: string): string {
  let head = '';
  try {
    const r = readResults(path.join(out, 'results.json'));
    head = [...r.reasons.map((x) => `reason: ${x}`), ...r.drills.flatMap((d) => d.thresholds.filter((t) => t.verdict !== 'pass').map((t) => `${d.name} / ${t.name}: ${t.verdict} — ${t.detail}`))].join('\n');
  } catch {
    head = '(no results.json)';
  }
  return `${head}\n--- stderr ---\n${stderr.slice(-2000)}`;
}

/**
 * For the drills that must pass: generator bounds with room for a busy shared host. These tests
 * prove the drill's mechanics (failover, nothing lost, rollback), not that a 2-core box shared
 * with other suites keeps its event loop under 50 ms; the fault tests keep the shipped bounds.
 */
function roomy<T extends { generator?: Record<string, number> }>(def: T): T {
  return { ...def, generator: { ...def.generator, eventLoopP99Ms: 500, eventLoopMaxMs: 5_000, pacerLagP99Ms: 1_000, cpuSustainedS: 3_600 } };
}

let target: ChaosTarget;

beforeAll(async () => {
  await restoreBed();
  target = resolveChaosTarget({ testbedStateDir: tb.stateDir, what: 'drill tests', chaos: true });
});

afterEach(async () => {
  // Whatever a test left behind (a failed assertion mid-drill), put back.
  await cli(['drill', 'rollback', '--force'], 60_000);
  await restoreBed();
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('drills', () => {
  it('gateway-pair (crash) passes: the survivor holds, no webhook lost, the victim comes back', async () => {
    const def = roomy(resolveDrill('gateway-pair', { profile: 'smoke', set: { mode: 'crash', warmup: '3s', faultFor: '6s', recover: '4s' } }));
    const o = await runDrill(def, { target, log: () => {} });
    const f = o.result.figures ?? {};
    expect(o.verdict.verdict, `${why(o)}\nsaturated: ${JSON.stringify(f.generator_saturated_reasons)}`).toBe('pass');
    expect(o.verdict.exitCode).toBe(0);
    expect(o.result.status).toBe('Pass');
    expect(f.webhooks_lost).toBe(0);
    expect(f.webhooks_duplicated).toBe(0);
    expect(f.webhooks_acknowledged).toBeGreaterThan(50);
    expect(f.haproxy_down_ms).toBeGreaterThan(0);
    expect(f.haproxy_down_ms).toBeLessThan(15_000);
    expect(f.prometheus_down_ms).toBeGreaterThan(0);
    expect(f.recovery_ms).toBeGreaterThan(0);
    expect(typeof f.webhook_backlog_high_water).toBe('number');
    expect(typeof f.webhook_backlog_drain_ms).toBe('number');
    expect(typeof f.client_errors_during_failover).toBe('number');
    // After heal: the victim's keys from before the crash went again to the restarted victim, the
    // survivor and the LB; keys are in Redis, so every class was tested and none forgot.
    expect(f['after-heal.keys']).toBeGreaterThan(0);
    expect(f['after-heal.answered']).toBeGreaterThan(0);
    expect(f.webhooks_redeliveries_across_restart).toBeGreaterThan(0);
    expect(f.webhooks_redeliveries_across_replicas).toBeGreaterThan(0);
    expect(f.webhooks_redeliveries_same_process).toBeGreaterThan(0);
    expect([f.webhooks_dup_forgotten_across_restart, f.webhooks_dup_not_shared_across_replicas, f.webhooks_dup_within_process]).toEqual([0, 0, 0]);
    expect(o.result.thresholds?.find((t) => t.name === 'the restarted victim remembers the keys it acknowledged before the fault')?.verdict).toBe('pass');
    // The timeline has the fault, the restart and the verdict, in order.
    const labels = (o.result.events ?? []).map((e) => e.label);
    const i = labels.findIndex((l) => l.includes('crashed (SIGKILL)'));
    const j = labels.findIndex((l) => l.includes('started again'));
    expect(i).toBeGreaterThan(0);
    expect(j).toBeGreaterThan(i);
    expect(o.rollback.ok).toBe(true);
    expect(readJournal(o.journal).status).toBe('rolled-back');
    await expectBedRestored();
  });

  it('gateway-pair fails when the survivor is slowed too; exit 1, and the latency fault is rolled back', async () => {
    const out = path.join(tmp, 'fail-run');
    // The shipped drill with generator bounds that leave room for a busy host (see roomy()): the
    // slowed survivor must fail it, not a saturated generator make it inconclusive.
    const file = path.join(tmp, 'gateway-pair.yaml');
    const doc = YAML.parse(fs.readFileSync(path.join(REPO, 'scenarios/drills/gateway-pair.yaml'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, YAML.stringify(roomy(doc)));
    const r = await cli(['drill', file, '--testbed-state', tb.stateDir, '--out', out, '--set', 'slowSurvivorMs=1500', '--set', 'warmup=3s', '--set', 'faultFor=6s', '--set', 'recover=3s']);
    expect(r.code, whyRun(out, r.stderr)).toBe(1);
    const results = readResults(path.join(out, 'results.json'));
    expect(results.verdict).toBe('fail');
    expect(results.exitCode).toBe(1);
    const d = results.drills[0]!;
    expect(d.status).toBe('Fail');
    const p95 = d.thresholds.find((t) => t.name.startsWith('client p95') && t.name.endsWith('(during)'));
    expect(p95?.verdict).toBe('fail');
    expect(p95?.detail).toMatch(/failed measurements in a row > \d+ tolerated/);
    // The reports carry the drill: its table in Markdown, its testsuite in JUnit.
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/\| Gateway pair failover \| Fail \|/);
    expect(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8')).toMatch(/testsuite name="Gateway pair failover"/);
    await expectBedRestored();
  });

  it('a Prometheus answering NaN never loses the drill: client figures kept, the flat-metrics step no data, inconclusive, rolled back', async () => {
    const double = await startPrometheusDouble('nan');
    try {
      const def = resolveDrill('token-rotation', { profile: 'smoke', set: { flatTimeout: '8s' } });
      const bad = { ...target, prom: new PromClient({ url: double.url, timeoutMs: 2_000 }), promUrl: double.url };
      const o = await runDrill(def, { target: bad, log: () => {} });
      expect(double.queries, 'the drill asked the double').toBeGreaterThan(0);
      // Its own measurements stand: the client figure was counted, the HTTP checks were judged.
      expect(o.result.figures?.auth_failures_rotating_clients, why(o)).toBe(0);
      // (Measured, whatever a busy host makes of the verdict: a saturated generator makes a pass inconclusive.)
      expect(o.result.thresholds?.find((t) => t.name === 'primary token accepted during the overlap')?.observed, why(o)).toBe(200);
      // What Prometheus could not give is no data with its reason, and the verdict says so.
      const flat = o.result.thresholds?.find((t) => t.name === 'success metrics flat for two polling intervals');
      expect(flat?.verdict, why(o)).not.toBe('pass');
      expect(`${flat?.detail ?? ''} ${o.verdict.reasons.join(' ')}`, why(o)).toMatch(/NaN|no data/);
      // No data (or inconclusive where the busy host also made client results untrusted): exit 3 either way.
      expect(['no_data', 'inconclusive'], why(o)).toContain(o.verdict.verdict);
      expect(o.verdict.exitCode, why(o)).toBe(3);
      expect(flat?.detail, why(o)).toMatch(/series answered NaN/);
      expect(o.rollback.ok).toBe(true);
      expect(readJournal(o.journal).status).toBe('rolled-back');
    } finally {
      await double.close();
    }
    await expectBedRestored();
  });

  it('token-rotation: overlap accepted, clients that follow see no 401, revoked token gets 401', async () => {
    const def = roomy(resolveDrill('token-rotation', { profile: 'smoke' }));
    const o = await runDrill(def, { target, log: () => {} });
    expect(o.verdict.verdict, why(o)).toBe('pass');
    const th = (name: string) => o.result.thresholds?.find((t) => t.name === name);
    expect(th('revoked token gets 401')?.verdict).toBe('pass');
    expect(th('overlap token accepted during the overlap')?.verdict).toBe('pass');
    expect(th('primary token accepted during the overlap')?.verdict).toBe('pass');
    expect(th('success metrics flat for two polling intervals')?.verdict).toBe('pass');
    expect(o.result.figures?.auth_failures_rotating_clients).toBe(0);
    // Revocation came only after the flat metrics.
    const labels = (o.result.events ?? []).map((e) => e.label);
    expect(labels.findIndex((l) => l.startsWith('success metrics flat'))).toBeLessThan(labels.findIndex((l) => l.startsWith('revoked:')));
    // Rolled back: the primary works again everywhere.
    for (const g of tb.gateways) {
      const r = await fetch(`${g.url}/tools/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'sessions_list', args: { user_id: 'after-rotation' } }),
      });
      expect(r.status, g.id).toBe(200);
    }
  });

  it('disk-watermark: yellow flips disk_ok per tier and blocks scale-up with a digest; red scales to minimum and drains the canary', async () => {
    const def = roomy(resolveDrill('disk-watermark', { profile: 'smoke', set: { hold: '1s' } }));
    const o = await runDrill(def, { target, log: () => {} });
    const f = o.result.figures ?? {};
    expect(o.verdict.verdict, why(o)).toBe('pass');
    // Both tiers: 1 TB gateways at 82%, the 2 TB one (gw-3 in the test bed) at 78%.
    expect(f['yellow-gate.yellow_gate_gw-1']).toBe(0.82);
    expect(f['yellow-gate.yellow_gate_gw-3']).toBe(0.78);
    expect(f['below-gate.disk_used_gw-3']).toBe(0.77);
    expect(f['below-gate.disk_ok_false']).toBe(0);
    expect(f['yellow-gate.disk_ok_true']).toBe(0);
    expect(f['yellow-gate.scale_up_blocked']).toBe(1);
    expect(f['yellow-gate.digest_published']).toBe(1);
    expect(f['red-gate.scale_to_min']).toBe(1);
    expect(f['red-gate.canary_drained']).toBe(1);
    // The digests reached the notifier's sink.
    const digests = fs.readFileSync(tb.notifier!.digestFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { summary: string });
    expect(digests.some((d) => d.summary.includes('disk-yellow'))).toBe(true);
    expect(digests.some((d) => d.summary.includes('disk-red'))).toBe(true);
    await expectBedRestored();
  });

  it('a harness killed mid-fault is finished by `clawstorm drill rollback`: gateways, weights and faults restored', async () => {
    // A drill that changes every kind of setting, then waits long enough to be killed.
    const file = path.join(tmp, 'kill-me.yaml');
    fs.writeFileSync(
      file,
      [
        'name: kill-me',
        'title: Killed mid-fault',
        'scope: { servers: [gw-1, gw-2] }',
        'timing: { warmup: 1s, recover: 1s }',
        'load: { tools: { rate: 5 }, webhooks: { rate: 5 } }',
        'method:',
        '  - { id: weight, lb.weight: { server: gw-2, weight: 10 } }',
        '  - { id: faults, gateway.faults: { gateways: [gw-2], patch: { latencyMs: 50, diskUsedRatio: 0.85, degraded: true } } }',
        '  - { id: hang, gateway.fault: { gateway: gw-1, mode: hang } }',
        '  - { id: hold, wait: 90s }',
        '',
      ].join('\n'),
    );
    const journal = path.join(tmp, 'kill-me.journal.json');
    const child = spawn(CLI, ['drill', file, '--testbed-state', tb.stateDir, '--journal', journal, '--out', path.join(tmp, 'kill-out')], {
      cwd: REPO,
      stdio: 'ignore',
      env: process.env,
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await waitFor(
        () => {
          try {
            const j = readJournal(journal);
            return j.entries.some((e) => e.step === 'hang' && e.state === 'applied') ? j : undefined;
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the drill to hang gw-1' },
      );
      expect(procState(processPid(tb, 'gw-1')!)).toMatch(/^[Tt]$/);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // The faults outlive the harness…
    const left = readJournal(journal);
    expect(left.status).toBe('running');
    expect(left.entries.filter((e) => e.state === 'applied').map((e) => e.step)).toEqual(expect.arrayContaining(['scope', 'weight', 'faults', 'hang']));
    expect((await showServersState(tb)).find((s) => s.name === 'gw-2')?.weight).toBe(10);
    // …until the rollback command finishes the job.
    const r = await cli(['drill', 'rollback', '--journal', journal]);
    expect(r.code, r.stderr).toBe(0);
    expect(readJournal(journal).status).toBe('rolled-back');
    await expectBedRestored();
  });

  it('refuses a bad drill file (file and field named) and chaos against a profile without allowChaos', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'name: bad\ntitle: Bad\nmethod:\n  - { gateway.fault: { gateway: gw-1, mode: explode } }\n');
    const r1 = await cli(['drill', bad, '--testbed-state', tb.stateDir]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`${bad}: method[0]`);

    const profile = path.join(tmp, 'no-chaos.yaml');
    fs.writeFileSync(profile, 'name: no-chaos\ntestbed: true\nallowChaos: false\n');
    const r2 = await cli(['drill', 'gateway-pair', '--target', profile, '--testbed-state', tb.stateDir]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/allowChaos: .*refused/);
    const r3 = await cli(['storm', 'webhooks', '--target', profile, '--testbed-state', tb.stateDir, '--fault', 'crash']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/allowChaos/);
  });
});
