// The webhook retry storm against the shared local test bed: capped vs unbounded senders in one
// run, a gateway restart in the middle of each, redeliveries soon after the acknowledgement and
// after the restarted gateway is back, each aimed three ways; the accounting finds every
// acknowledged delivery exactly once and every duplicate class is tested and 0 (keys are in
// Redis); a gateway made to hold its keys in memory, as a real one does, is caught forgetting
// them across its restart, with both run ids; the notifier's digests (or its fallback counter,
// when the digest sink is down) account for every failure the senders saw; bad-token senders are
// throttled at their 21st failure. The bed is left as found.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { readJournal } from '../../src/faults/journal.ts';
import { rollbackJournals } from '../../src/faults/rollback.ts';
import { resolveChaosTarget, type ChaosTarget } from '../../src/target/target.ts';
import { defaultStormOptions } from '../../src/storm/options.ts';
import { runStorm } from '../../src/storm/storm.ts';
import { processPid, startGateway } from '../../src/testbed/control.ts';
import { showServersState } from '../../src/lb/runtime.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const admin = readTokenFile(tb.tokenFiles.admin);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-storm-'));
process.env.CLAWSTORM_JOURNAL_DIR = path.join(tmp, 'journals');

const AdmissionSchema = z.object({ queueLimit: z.number(), workMs: z.number(), retryAfterS: z.number() });
const NotifierConfigSchema = z.object({ windowMs: z.number(), sink: z.object({ kind: z.string() }) });

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${admin}` }, signal: AbortSignal.timeout(5_000) });
  expect(r.status, url).toBe(200);
  return r.json();
}

let target: ChaosTarget;
let admissionBefore: z.infer<typeof AdmissionSchema>[];
let notifierBefore: z.infer<typeof NotifierConfigSchema>;

beforeAll(async () => {
  target = resolveChaosTarget({ testbedStateDir: tb.stateDir, what: 'storm tests', chaos: true });
  admissionBefore = await Promise.all(tb.gateways.map(async (g) => AdmissionSchema.parse(await getJson(`${g.url}/admin/hooks`))));
  notifierBefore = NotifierConfigSchema.parse(await getJson(`${tb.notifier!.url}/admin/config`));
});

afterEach(async () => {
  await rollbackJournals({ force: true });
  for (const g of tb.gateways) await startGateway(tb, g.id, { timeoutMs: 30_000 });
  await waitFor(async () => (await showServersState(tb)).every((s) => s.opState === 'UP'), { timeoutMs: 30_000, intervalMs: 200, what: 'every gateway UP' });
});

afterAll(async () => {
  // The storm's settings are gone: admission and the notifier as they were before.
  const after = await Promise.all(tb.gateways.map(async (g) => AdmissionSchema.parse(await getJson(`${g.url}/admin/hooks`))));
  expect(after).toEqual(admissionBefore);
  expect(NotifierConfigSchema.parse(await getJson(`${tb.notifier!.url}/admin/config`))).toEqual(notifierBefore);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('webhook storm', () => {
  it('unbounded senders send more and meet more 429s than capped ones; none lost for either; digests account for every failure', async () => {
    const pidBefore = processPid(tb, 'gw-1');
    // Defaults: 10 % redelivered soon after the acknowledgement, half of what gw-1 acknowledged
    // before its restart redelivered once it is back; each to gw-1, another replica and the LB.
    const o = await runStorm(target, { ...defaultStormOptions('smoke'), senders: 40, deliveries: 5, fault: 'restart', faultGateway: 'gw-1', spreadMs: 5_000 }, { log: () => {} });
    const storm = o.results.find((r) => r.name === 'webhook-storm')!;
    expect(storm.status, JSON.stringify(storm.thresholds?.filter((t) => t.verdict !== 'pass'))).toBe('Pass');
    const capped = o.phases.capped!;
    const unbounded = o.phases.unbounded!;

    // The comparison the storm exists for, measured in one run.
    expect(unbounded.requests).toBeGreaterThan(capped.requests);
    expect(unbounded.status_429).toBeGreaterThan(capped.status_429);
    expect(capped.status_429).toBeGreaterThan(0);
    for (const d of ['capped', 'unbounded']) {
      for (const label of ['forgotten across a restart', 'not shared across replicas', 'within one process lifetime']) {
        expect(storm.thresholds?.find((t) => t.name === `${d}: keys ${label} ≤ 0`)?.verdict, `${d} ${label}`).toBe('pass');
      }
    }
    // Capped senders never retried more than 3 times per delivery.
    expect(capped.requests).toBeLessThanOrEqual(4 * (capped.deliveries + capped.redeliveries));

    for (const p of [capped, unbounded]) {
      expect(p.lost).toBe(0);
      expect(p.duplicated).toBe(0);
      expect(p.accepted).toBeGreaterThan(0);
      expect(p.accepted + p.gave_up).toBe(p.deliveries);
      // Redeliveries of acknowledged keys got the same run back (idempotency), every way aimed.
      // (A redelivery aimed straight at gw-1 while it restarts gets no answer at all.)
      expect(p.redeliveries_answered).toBeGreaterThan(0);
      expect(p.redeliveries_same_run).toBe(p.redeliveries_answered);
      for (const aim of ['to_acknowledger', 'to_other_replica', 'via_lb']) expect(p[`redeliveries_${aim}_same_run`], aim).toBeGreaterThan(0);
      // gw-1 came back and got its own keys again: every class was tested, and none forgot.
      expect(p.after_heal_back_ms).not.toBeNull();
      expect(p.redelivered_keys_after_heal).toBeGreaterThan(0);
      expect(p.redeliveries_across_restart).toBeGreaterThan(0);
      expect(p.redeliveries_across_replicas).toBeGreaterThan(0);
      expect(p.redeliveries_same_process).toBeGreaterThan(0);
      expect([p.dup_forgotten_across_restart, p.dup_not_shared_across_replicas, p.dup_within_process, p.dup_unclassified]).toEqual([0, 0, 0, 0]);
      expect(p.peak_queue_depth).toBeGreaterThan(0);
      expect(p.drain_ms).not.toBeNull();
      // Every 429/5xx a sender saw from a gateway is in a digest (or in the fallback counter).
      expect(p.failures_from_gateways).toBe(p.status_429 + p.gateway_5xx_seen);
      expect(p.failures_unaccounted).toBe(0);
      expect(p.digests).toBeGreaterThanOrEqual(1);
    }
    // Both tables in one result, pivoted by discipline.
    expect(storm.figures?.['capped.requests']).toBe(capped.requests);
    expect(storm.figures?.['unbounded.requests']).toBe(unbounded.requests);
    // The fault happened (gw-1 restarted) and was put back.
    expect(processPid(tb, 'gw-1')).not.toBe(pidBefore);
    expect(readJournal(o.journal).status).toBe('rolled-back');
    expect(o.rollback.ok).toBe(true);
  });

  it('with the digest sink down, the fallback counter on disk accounts for every failure; bad-token senders are throttled at their 21st failure', async () => {
    const o = await runStorm(
      target,
      {
        ...defaultStormOptions('smoke'),
        senders: 20,
        deliveries: 4,
        disciplines: ['unbounded'],
        fault: 'none',
        redeliveries: [],
        spreadMs: 2_000,
        digestSinkDown: true,
        // A queue bound of 5 and a 200 ms stand-in run: the herd meets 429s however the host's
        // load spreads its arrival.
        admission: { queueLimit: 5, workMs: 200, retryAfterS: 1 },
        badToken: true,
        badTokenSenders: 10,
      },
      { log: () => {} },
    );
    const p = o.phases.unbounded!;
    expect(p.lost).toBe(0);
    expect(p.status_429).toBeGreaterThan(0);
    expect(p.failures_in_digests).toBe(0);
    expect(p.fallback_events).toBeGreaterThanOrEqual(p.failures_from_gateways);
    expect(p.failures_unaccounted).toBe(0);
    const fallback = z.object({ events: z.number() }).parse(JSON.parse(fs.readFileSync(tb.notifier!.fallbackFile, 'utf8')));
    expect(fallback.events).toBeGreaterThanOrEqual(p.failures_from_gateways);

    const bad = o.results.find((r) => r.name === 'webhook-storm-bad-token')!;
    expect(bad.status, JSON.stringify(bad.thresholds)).toBe('Pass');
    expect(o.badToken?.throttled_senders).toBe(10);
    expect(o.badToken?.first_429_attempt_min).toBe(21);
    expect(o.badToken?.first_429_attempt_max).toBe(21);
    expect(o.badToken?.control_client_ok).toBe(1);
    // Nothing redelivered, no fault: no class was tested, so none may claim 0.
    const storm = o.results.find((r) => r.name === 'webhook-storm')!;
    const classes = (storm.thresholds ?? []).filter((t) => t.name.startsWith('unbounded: keys '));
    expect(classes.map((t) => t.verdict)).toEqual(['no_data', 'no_data', 'no_data']);
    expect(classes.find((t) => t.name.includes('restart'))?.detail).toMatch(/not exercised: no redelivery reached a restarted gateway/);
  });

  it('a gateway that holds its keys in memory forgets them across its restart: caught, with both run ids', async () => {
    const put = (url: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, { method: body === undefined ? 'POST' : 'PUT', headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(5_000) });
    // Off by default; on for every gateway now, as a real gateway keeps its keys.
    for (const g of tb.gateways) expect((await getJson(`${g.url}/admin/faults`)) as { keysInMemory: boolean }).toMatchObject({ keysInMemory: false });
    for (const g of tb.gateways) expect((await put(g.url, '/admin/faults', { keysInMemory: true })).status).toBe(200);
    let o: Awaited<ReturnType<typeof runStorm>>;
    try {
      o = await runStorm(
        target,
        { ...defaultStormOptions('smoke'), senders: 20, deliveries: 4, disciplines: ['capped'], fault: 'restart', faultGateway: 'gw-1', spreadMs: 3_000, redeliveries: [{ name: 'after-heal', share: 1, after: 'heal' }] },
        { log: () => {} },
      );
    } finally {
      for (const g of tb.gateways) await put(g.url, '/admin/faults/reset');
    }
    const storm = o.results.find((r) => r.name === 'webhook-storm')!;
    const p = o.phases.capped!;
    const why = JSON.stringify({ figures: storm.figures, failed: (storm.thresholds ?? []).filter((t) => t.verdict !== 'pass') });
    expect(p.redeliveries_across_restart, why).toBeGreaterThan(0);
    expect(p.dup_forgotten_across_restart, why).toBeGreaterThan(0);
    // The other replicas never had gw-1's keys either; within one process nothing was forgotten.
    expect(p.dup_not_shared_across_replicas, why).toBeGreaterThan(0);
    expect(p.dup_within_process, why).toBe(0);
    expect(storm.status).toBe('Fail');
    // The evidence: the same key, gw-1 before and after its restart, two different runs.
    const restart = o.evidence.capped!.filter((e) => e.cls === 'restart');
    expect(restart.length, why).toBeGreaterThan(0);
    for (const e of restart) {
      expect(e.first.process?.gateway).toBe('gw-1');
      expect(e.second.process?.gateway).toBe('gw-1');
      expect(e.second.process?.id).not.toBe(e.first.process?.id);
      expect(e.second.runId).not.toBe(e.first.runId);
    }
    const th = (storm.thresholds ?? []).find((t) => t.name === 'capped: keys forgotten across a restart ≤ 0')!;
    expect(th.verdict).toBe('fail');
    expect(th.detail).toContain(restart[0]!.first.runId);
    expect(th.detail).toContain(restart[0]!.second.runId);
    // Nothing acknowledged was lost: the second runs are duplicates, not replacements.
    expect(p.lost).toBe(0);
  });
});
