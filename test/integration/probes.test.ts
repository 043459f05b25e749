// The gate honours `degraded` (plan §5): a gateway that turns degraded in the middle of a run keeps
// serving — HTTP 200, the load balancer keeps it in rotation, traffic still flows — and the gate
// fails with a reason naming the gateway and when. Also: the probe SLO and drift are judged in
// every gate run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { parseStatCsv, runtimeCommand, showServersState } from '../../src/lb/runtime.ts';
import { readResults } from '../../src/report/results.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import { waitFor } from '../../src/util/wait.ts';

const tb = inject('testbed');
const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const adminToken = readTokenFile(tb.tokenFiles.admin);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-probes-it-'));
const victim = tb.gateways[1]!;

async function faults(g: { url: string }, body: Record<string, unknown> | 'reset'): Promise<void> {
  const res = await fetch(`${g.url}/admin/faults${body === 'reset' ? '/reset' : ''}`, {
    method: body === 'reset' ? 'POST' : 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, ...(body === 'reset' ? {} : { 'content-type': 'application/json' }) },
    ...(body === 'reset' ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status, await res.text()).toBe(200);
}

/** Sessions HAProxy has sent to each server so far. */
async function sessions(): Promise<Map<string, number>> {
  const rows = parseStatCsv(await runtimeCommand(tb.haproxy.socket, `show stat ${tb.haproxy.backend} 4 -1`));
  return new Map(rows.map((r) => [r.svname ?? '', Number(r.stot ?? 0)]));
}

afterAll(async () => {
  await faults(victim, 'reset');
  fs.rmSync(work, { recursive: true, force: true });
});

const SCENARIO = path.join(work, 'steady-calls.yaml');
fs.writeFileSync(
  SCENARIO,
  YAML.stringify({
    name: 'steady-calls',
    title: 'Steady Calls',
    profiles: { smoke: { executor: 'constant-arrival-rate', rate: 15, timeUnit: '1s', duration: '12s', preAllocatedVUs: 10, maxVUs: 60, gracefulStop: '10s' } },
    journeys: [{ name: 'call', steps: [{ name: 'sessions_list', tool: 'sessions_list', args: { user_id: '{{user}}' }, timeout: '10s' }] }],
    // Limits with room: this test is about the probe, not the latency of a busy machine.
    thresholds: [{ name: 'client errors < 50%', metric: 'errors', expr: 'rate<0.5' }],
  }),
);

describe('the gate samples every gateway probe through the run', () => {
  it('a gateway degraded mid-run fails the gate (exit 1) naming it and when, while HAProxy keeps routing to it', async () => {
    const out = path.join(work, 'out-degraded');
    const run = execa(CLI, ['run', SCENARIO, '--profile', 'smoke', '--testbed-state', tb.stateDir, '--out', out], { env: { CI: 'true' }, reject: false, timeout: 180_000, cwd: work });
    const before = await sessions();
    // The load has reached the fleet: then the victim turns degraded.
    await waitFor(async () => ((await sessions()).get(victim.server) ?? 0) > (before.get(victim.server) ?? 0) + 5, { timeoutMs: 60_000, intervalMs: 200, what: `load reaching ${victim.server}` });
    await faults(victim, { degraded: true });
    const atDegrade = (await sessions()).get(victim.server) ?? 0;
    // Still in rotation, and still being sent requests.
    await waitFor(async () => ((await sessions()).get(victim.server) ?? 0) > atDegrade + 5, { timeoutMs: 30_000, intervalMs: 200, what: `requests reaching the degraded ${victim.server}` });
    const state = (await showServersState(tb.haproxy)).find((s) => s.name === victim.server);
    expect(state?.opState, JSON.stringify(state)).toBe('UP');
    const r = await run;
    await faults(victim, 'reset');
    const why = `exit ${r.exitCode}\n${r.stderr.slice(-3000)}`;
    expect(r.exitCode, why).toBe(1);
    const res = readResults(path.join(out, 'results.json'));
    const degraded = res.thresholds.find((t) => t.name.startsWith('no gateway degraded'))!;
    expect(degraded.verdict, why).toBe('fail');
    expect(degraded.detail).toMatch(new RegExp(`^${victim.id} degraded at \\d+\\.\\d s into the run \\(\\d+ of \\d+ samples: degraded flag set\\)`));
    const g = res.probes!.gateways.find((x) => x.gateway === victim.id)!;
    expect(g.degradedSamples).toBeGreaterThan(0);
    // The other gateways were sampled as well and never degraded.
    for (const other of res.probes!.gateways.filter((x) => x.gateway !== victim.id)) expect(other.degradedSamples, other.gateway).toBe(0);
    // The probe SLO was judged on real samples.
    const slo = res.thresholds.find((t) => t.name.startsWith('probe P95'))!;
    expect(slo.observed, slo.detail).not.toBeNull();
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toContain(`${victim.id} degraded at`);
  });
});
