// `clawstorm testbed up --gateways openclaw`, then the gateway-pair drill and the webhook storm
// through the CLI, exactly as a user runs them, against a pair of REAL OpenClaw gateways. The
// assertions are on what was measured (every figure present and plausible, rollbacks complete,
// nothing left running), not on the real gateway passing: what it does under a fault is a finding.
// CLAWSTORM_INTEROP_KEEP=<dir> keeps the reports of the drill and the storm there (they are the
// examples under reports/examples/openclaw/).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showServersState } from '../../src/lb/runtime.ts';
import { PromClient } from '../../src/prom/client.ts';
import { ResultsSchema } from '../../src/report/results.ts';
import { stopTestbed } from '../../src/testbed/down.ts';
import { readState } from '../../src/testbed/state.ts';
import type { OpenClawEndpoints } from '../../src/testbed/types.ts';
import { startTestbed } from '../../src/testbed/up.ts';
import { descendants, isAlive } from '../../src/util/proc.ts';
import { isListening } from '../../src/util/ports.ts';
import { waitFor } from '../../src/util/wait.ts';
import { warmGateways } from './warm.ts';

const execFileP = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../bin/clawstorm');

let tmp: string;
let bed: OpenClawEndpoints;
let prom: PromClient;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-ocbed-'));
  bed = await startTestbed({ gateways: 'openclaw', replicas: 2, stateDir: path.join(tmp, 'bed'), onProgress: (l) => process.stderr.write(`[openclaw bed] ${l}\n`) });
  prom = new PromClient({ url: bed.prometheus.url });
}, 600_000);

afterAll(async () => {
  const keep = process.env.CLAWSTORM_INTEROP_KEEP;
  if (keep !== undefined && keep !== '') {
    for (const d of ['drill', 'storm']) if (fs.existsSync(path.join(tmp, d))) fs.cpSync(path.join(tmp, d), path.join(keep, d), { recursive: true });
  }
  if (bed !== undefined) await stopTestbed(bed.stateDir).catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

/** Run the CLI; a non-zero exit is an answer here (1 = a criterion failed), not an error. */
async function cli(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(CLI, args, { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function results(dir: string) {
  return ResultsSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')));
}

const token = (f: string) => fs.readFileSync(f, 'utf8').trim();

describe('a test bed of real OpenClaw gateways', () => {
  it('puts HAProxy (checking /readyz) in front of two gateways with their own ports, state and config', async () => {
    expect(bed.kind).toBe('openclaw');
    expect(bed.gateways).toHaveLength(2);
    const [a, b] = bed.gateways;
    expect(a!.url).not.toBe(b!.url);
    expect(path.dirname(a!.configFile)).not.toBe(path.dirname(b!.configFile));
    expect(fs.readFileSync(path.join(bed.stateDir, 'haproxy', 'haproxy.cfg'), 'utf8')).toContain('uri /readyz');
    const servers = await showServersState(bed.haproxy);
    expect(servers.map((s) => `${s.name} ${s.opState} ${s.checkStatus}`).sort()).toEqual(['gw-1 UP L7OK', 'gw-2 UP L7OK']);
    // Tokens sit in 0600 files and work through the load balancer; a wrong one does not.
    for (const f of Object.values(bed.tokenFiles)) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    const call = (t: string) =>
      fetch(`${bed.lb.url}/tools/invoke`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ tool: 'sessions_list', args: {} }) });
    expect((await call(token(bed.tokenFiles.gateway))).status).toBe(200);
    expect((await call('not-the-token')).status).toBe(401);
  });

  it('Prometheus sees both gateways through the blackbox exporter (/healthz and /readyz) and the recording rule', async () => {
    for (const job of ['blackbox-healthz', 'blackbox-readyz']) {
      const r = await prom.instant(`probe_success{job="${job}"}`);
      expect(r.type === 'vector' ? r.series.map((s) => `${s.labels.gateway}=${s.v}`).sort() : []).toEqual(['gw-1=1', 'gw-2=1']);
    }
    await waitFor(async () => {
      const r = await prom.instant('clawstorm:gateway_up');
      return r.type === 'vector' && r.series.length === 2 && r.series.every((s) => s.v === 1);
    }, { timeoutMs: 10_000, intervalMs: 500, what: 'clawstorm:gateway_up for both gateways' });
  });

  it('every query of the OpenClaw dashboard has series on this bed', async () => {
    const dash = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../dashboards/clawstorm-openclaw.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '1m') })));
    // Rates need two scrapes of a counter that moved: send a little traffic first.
    for (let i = 0; i < 5; i++) await fetch(`${bed.lb.url}/healthz`).then((r) => r.arrayBuffer());
    await waitFor(async () => {
      const empty: string[] = [];
      for (const e of exprs) {
        const r = await prom.instant(e.expr);
        if (r.type !== 'vector' || r.series.length === 0) empty.push(e.panel);
      }
      return empty.length === 0 ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 1_000, what: 'every dashboard query to return series' });
  });

  it('gateway-pair drill (crash) runs unchanged: every figure measured, the victim restarted, nothing left over', async () => {
    const victimBefore = readState(bed.stateDir).processes.find((p) => p.name === 'gw-1')!;
    const treeBefore = [victimBefore.pid, ...descendants(victimBefore.pid).map((d) => d.pid)];
    const out = path.join(tmp, 'drill');
    // A freshly started OpenClaw gateway answers its first tool calls and hooks in seconds (its
    // runtimes load on first use), which fails the drill's steady state before any fault. Warm both.
    await warmGateways(bed);
    // No --set: the rates a real pair on 2 shared cores can carry come from profiles/openclaw.yaml.
    const r = await cli(['drill', 'gateway-pair', '--testbed-state', bed.stateDir, '--out', out], 400_000);
    // 0 or 1 is the drill's own verdict. 3 is accepted only when the sole reason is a saturated
    // load generator (two real gateways and the generator share 2 cores): every figure below is
    // still checked as measured. A steady state that never held or a figure without data fails here.
    expect([0, 1, 3], r.out.slice(-4000)).toContain(r.code);
    if (r.code === 3) expect(r.out).toMatch(/^verdict: inconclusive \(exit 3\) — load generator saturated: \d+ client-side result\(s\) not trusted$/m);
    expect(r.out).toContain('options from target profile openclaw: toolRate=5 hookRate=1');
    const d = results(out).drills?.[0];
    expect(d?.name).toBe('gateway-pair');
    const f = d!.figures;
    expect(f.haproxy_down_ms, r.out.slice(-4000)).toBeGreaterThan(0);
    expect(f.haproxy_down_ms).toBeLessThan(30_000);
    expect(f.prometheus_down_ms).toBeGreaterThan(0);
    expect(f.recovery_ms).toBeGreaterThan(0);
    expect(f.webhooks_acknowledged).toBeGreaterThan(0);
    // Looked up in the gateways' own logs: a number, not "no data".
    expect(typeof f.webhooks_lost).toBe('number');
    expect(typeof f.webhooks_duplicated).toBe('number');
    // After heal: the victim's keys from before the crash went to the restarted victim and the
    // survivor, so both classes were tested: numbers, whatever they are.
    expect(f['after-heal.keys'], r.out.slice(-3000)).toBeGreaterThan(0);
    expect(f.webhooks_redeliveries_across_restart).toBeGreaterThan(0);
    expect(typeof f.webhooks_dup_forgotten_across_restart).toBe('number');
    expect(f.webhooks_redeliveries_across_replicas).toBeGreaterThan(0);
    expect(typeof f.webhooks_dup_not_shared_across_replicas).toBe('number');
    expect(d!.thresholds.find((t) => t.name === 'rollbacks complete')).toBeUndefined();
    // The crashed tree is gone; a new gw-1 serves, HAProxy has both servers UP.
    for (const pid of treeBefore) expect(isAlive(pid)).toBe(false);
    const after = readState(bed.stateDir).processes.find((p) => p.name === 'gw-1')!;
    expect(after.pid).not.toBe(victimBefore.pid);
    await waitFor(async () => (await showServersState(bed.haproxy)).every((s) => s.opState === 'UP'), { timeoutMs: 60_000, intervalMs: 500, what: 'both gateways UP again' });
  }, 420_000);

  it('webhook storm with a restart mid-storm and redeliveries across it; bad-token senders throttled per client address (429 + Retry-After)', async () => {
    const out = path.join(tmp, 'storm');
    // The drill before this one crashed and restarted gw-1: warm it again, or its first hooks (the
    // agent runtime loading) take the seconds in which the storm's restart comes.
    await warmGateways(bed);
    const r = await cli(
      [
        'storm', 'webhooks', '--testbed-state', bed.stateDir, '--out', out, '--senders', '10', '--deliveries', '3', '--discipline', 'capped', '--fault', 'restart',
        // Half redelivered soon after their acknowledgement, every key gw-1 acknowledged before
        // its restart redelivered once it is back: each to gw-1, to gw-2 and through HAProxy.
        '--redeliver', '0.5', '--after-heal', '1',
        '--bad-token', '--bad-token-senders', '4', '--bad-token-via', 'gateways',
      ],
      400_000,
    );
    // 0 or 1 is the drill's own verdict. 3 is accepted only when the sole reason is a saturated
    // load generator (two real gateways and the generator share 2 cores): every figure below is
    // still checked as measured. A steady state that never held or a figure without data fails here.
    expect([0, 1, 3], r.out.slice(-4000)).toContain(r.code);
    if (r.code === 3) expect(r.out).toMatch(/^verdict: inconclusive \(exit 3\) — load generator saturated: \d+ client-side result\(s\) not trusted$/m);
    const drills = results(out).drills ?? [];
    const storm = drills.find((x) => x.name === 'webhook-storm')!.figures;
    expect(storm['capped.accepted'], r.out.slice(-3000)).toBeGreaterThan(0);
    expect(typeof storm['capped.lost']).toBe('number');
    // Every class was tested, so each is a number (0 or not), never left as no data.
    expect(storm['capped.redelivered_keys_after_heal'], r.out.slice(-3000)).toBeGreaterThan(0);
    for (const [dup, tested] of [['dup_forgotten_across_restart', 'redeliveries_across_restart'], ['dup_not_shared_across_replicas', 'redeliveries_across_replicas'], ['dup_within_process', 'redeliveries_same_process']]) {
      expect(storm[`capped.${tested}`], tested).toBeGreaterThan(0);
      expect(typeof storm[`capped.${dup}`], dup).toBe('number');
    }
    // Which process answered was told for every redelivery (the gateways' own log starts).
    expect(storm['capped.redeliveries_unclassified']).toBe(0);
    // No notifier receives a real gateway's failures: those criteria are not held against it.
    expect(drills.find((x) => x.name === 'webhook-storm')!.thresholds.some((t) => t.name.includes('digests'))).toBe(false);
    const bad = drills.find((x) => x.name === 'webhook-storm-bad-token')!.figures;
    expect(bad['bad_token.throttled_senders']).toBe(4);
    expect(bad['bad_token.first_429_attempt_min']).toBeGreaterThanOrEqual(15);
    expect(bad['bad_token.first_429_attempt_max']).toBeLessThanOrEqual(21);
    expect(bad['bad_token.retry_after_s']).toBeGreaterThan(0);
    expect(bad['bad_token.control_client_ok']).toBe(1);
  }, 420_000);

  it('down stops every process of the bed, the gateways\' children included, and frees every port', async () => {
    const st = readState(bed.stateDir);
    const pids = st.processes.flatMap((p) => [p.pid, ...descendants(p.pid).map((d) => d.pid)]);
    const report = await stopTestbed(bed.stateDir);
    expect(report.problems).toEqual([]);
    expect(pids.filter((p) => isAlive(p))).toEqual([]);
    for (const g of bed.gateways) expect(await isListening(Number(new URL(g.url).port))).toBe(false);
  }, 120_000);
});
