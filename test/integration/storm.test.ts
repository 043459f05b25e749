// The webhook retry storm against the shared local test bed: capped vs unbounded senders in one
// run, a gateway restart in the middle of each, redeliveries; the accounting finds every
// acknowledged delivery exactly once; the notifier's digests (or its fallback counter, when the
// digest sink is down) account for every failure the senders saw; bad-token senders are
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
    const o = await runStorm(target, { ...defaultStormOptions('smoke'), senders: 40, deliveries: 5, fault: 'restart', faultGateway: 'gw-1', redeliver: 0.1, spreadMs: 5_000 }, { log: () => {} });
    const storm = o.results.find((r) => r.name === 'webhook-storm')!;
    expect(storm.status, JSON.stringify(storm.thresholds?.filter((t) => t.verdict !== 'pass'))).toBe('Pass');
    const capped = o.phases.capped!;
    const unbounded = o.phases.unbounded!;

    // The comparison the storm exists for, measured in one run.
    expect(unbounded.requests).toBeGreaterThan(capped.requests);
    expect(unbounded.status_429).toBeGreaterThan(capped.status_429);
    expect(capped.status_429).toBeGreaterThan(0);
    // Capped senders never retried more than 3 times per delivery.
    expect(capped.requests).toBeLessThanOrEqual(4 * (capped.deliveries + capped.redeliveries));

    for (const p of [capped, unbounded]) {
      expect(p.lost).toBe(0);
      expect(p.duplicated).toBe(0);
      expect(p.accepted).toBeGreaterThan(0);
      expect(p.accepted + p.gave_up).toBe(p.deliveries);
      // Redeliveries of acknowledged keys got the same run back (idempotency).
      expect(p.redeliveries_same_run).toBe(p.redeliveries);
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
        redeliver: 0,
        spreadMs: 2_000,
        digestSinkDown: true,
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
  });
});
