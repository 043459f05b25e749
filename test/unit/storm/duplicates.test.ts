// Duplicates classified by what forgot the key, and a class's zero only where a redelivery tested it.
import { describe, expect, it } from 'vitest';
import { classifyDuplicates, describeEvidence, duplicateFigures, type KeyAnswer } from '../../../src/webhooks/duplicates.ts';
import type { GatewayProcess } from '../../../src/webhooks/processes.ts';

const gw1a: GatewayProcess = { gateway: 'gw-1', id: 'gw-1@1000' };
const gw1b: GatewayProcess = { gateway: 'gw-1', id: 'gw-1@5000' }; // gw-1 after its restart
const gw2: GatewayProcess = { gateway: 'gw-2', id: 'gw-2@900' };

let clock = 0;
function ans(key: string, runId: string, process: GatewayProcess | undefined, redelivery: boolean, at?: number): KeyAnswer {
  clock = at ?? clock + 10;
  return { key, runId, process, sentAt: clock - 5, at: clock, redelivery };
}

describe('classifyDuplicates', () => {
  it('tells the three classes apart and names both runs of each duplicate', () => {
    clock = 0;
    const r = classifyDuplicates([
      // k1: gw-1 forgot it across its restart.
      ans('k1', 'r1', gw1a, false),
      ans('k1', 'r1b', gw1b, true),
      // k2: gw-2 never knew what gw-1 acknowledged.
      ans('k2', 'r2', gw1a, false),
      ans('k2', 'r2b', gw2, true),
      // k3: the same process started a second run.
      ans('k3', 'r3', gw2, false),
      ans('k3', 'r3b', gw2, true),
      // k4: honoured everywhere: a replay of the same run tests all three situations.
      ans('k4', 'r4', gw1a, false),
      ans('k4', 'r4', gw1a, true),
      ans('k4', 'r4', gw1b, true),
      ans('k4', 'r4', gw2, true),
    ]);
    expect(r.keys).toEqual({ restart: 1, replicas: 1, process: 1 });
    // k1, k4 (gw-1 after restart); k2, k4 (gw-2); k3, k4 (same process).
    expect(r.exercised).toEqual({ restart: 2, replicas: 2, process: 2 });
    expect(r.unclassified).toBe(0);
    const byCls = Object.fromEntries(r.evidence.map((e) => [e.cls, describeEvidence(e)]));
    expect(byCls).toEqual({
      restart: 'k1: r1 (gw-1@1000) then r1b (gw-1@5000)',
      replicas: 'k2: r2 (gw-1@1000) then r2b (gw-2@900)',
      process: 'k3: r3 (gw-2@900) then r3b (gw-2@900)',
    });
  });

  it('compares with every process that had answered the key: the most local one explains the second run', () => {
    clock = 0;
    const r = classifyDuplicates([
      ans('k', 'a', gw1a, false),
      ans('k', 'b', gw2, true), // gw-2 did not share gw-1's key: replicas
      ans('k', 'c', gw2, true), // gw-2 itself had answered with b: within its own lifetime
    ]);
    expect(r.keys).toEqual({ restart: 0, replicas: 1, process: 1 });
    expect(r.evidence.find((e) => e.cls === 'process')).toMatchObject({ first: { runId: 'b' }, second: { runId: 'c' } });
  });

  it('a redelivery sent before an answer came back is not compared with that answer', () => {
    const r = classifyDuplicates([
      { key: 'k', runId: 'a', process: gw1a, sentAt: 0, at: 100, redelivery: false },
      // Sent at 150, before gw-1's later process had answered anything for this key.
      { key: 'k', runId: 'b', process: gw1b, sentAt: 150, at: 300, redelivery: true },
      { key: 'k', runId: 'b', process: gw2, sentAt: 200, at: 310, redelivery: true },
    ]);
    // The gw-2 redelivery only knew of gw-1@1000's answer: replicas tested, and b is not new by then.
    expect(r.exercised).toEqual({ restart: 1, replicas: 1, process: 0 });
    expect(r.keys).toEqual({ restart: 1, replicas: 0, process: 0 });
  });

  it('unknown processes leave the duplicate unclassified, not in a class', () => {
    clock = 0;
    const r = classifyDuplicates([ans('k', 'a', undefined, false), ans('k', 'b', gw2, true)]);
    expect(r.unclassified).toBe(1);
    expect(r.unclassifiedRedeliveries).toBe(1);
    expect(r.keys).toEqual({ restart: 0, replicas: 0, process: 0 });
  });
});

describe('duplicateFigures', () => {
  it('a class no redelivery tested is null (no data), not 0; a tested one is its count', () => {
    clock = 0;
    const f = duplicateFigures(classifyDuplicates([ans('k', 'a', gw1a, false), ans('k', 'a', gw2, true)]));
    expect(f).toMatchObject({
      dup_not_shared_across_replicas: 0,
      redeliveries_across_replicas: 1,
      dup_forgotten_across_restart: null,
      redeliveries_across_restart: 0,
      dup_within_process: null,
      dup_unclassified: 0,
    });
  });

  it('nothing redelivered: every class and the unclassified count are no data', () => {
    clock = 0;
    const f = duplicateFigures(classifyDuplicates([ans('k', 'a', gw1a, false)]));
    expect([f.dup_forgotten_across_restart, f.dup_not_shared_across_replicas, f.dup_within_process, f.dup_unclassified]).toEqual([null, null, null, null]);
  });
});
