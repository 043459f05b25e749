// The OpenClaw ledger: processed hook runs read from the gateways' own JSONL logs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { account, lookupRunsInLogs } from '../../../src/webhooks/accounting.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-ledger-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One log line as openclaw 2026.9.6 writes it (logging.file). */
function completed(runId: string, status: string): string {
  return `${JSON.stringify({
    0: '{"subsystem":"gateway/hooks"}',
    1: { runId, sourcePath: '/hooks/agent', status, summary: 'No route-compatible authentication source is configured for openai.' },
    2: `hook agent run completed runId=${runId} status=${status}`,
  })}\n`;
}
const other = `${JSON.stringify({ 0: '{"subsystem":"gateway"}', 2: 'hook agent run admitted runId=r9' })}\n`;

describe('lookupRunsInLogs', () => {
  it('counts completions per run over every gateway log, with their outcomes', () => {
    const a = path.join(dir, 'gw-1.jsonl');
    const b = path.join(dir, 'gw-2.jsonl');
    fs.writeFileSync(a, completed('r1', 'error') + other + completed('r2', 'ok'));
    fs.writeFileSync(b, completed('r3', 'error') + completed('r3', 'error'));
    const ans = lookupRunsInLogs([a, b, path.join(dir, 'not-yet.jsonl')], ['r1', 'r2', 'r3', 'r9']);
    expect(ans.runs).toEqual({ r1: { processed: 1 }, r2: { processed: 1 }, r3: { processed: 2 }, r9: { processed: 0 } });
    expect(ans.summary).toEqual({ asked: 4, processed: 3, missing: 1, duplicated: 1 });
    expect(ans.outcomes).toEqual({ error: 2, ok: 1 });
    // A real gateway tells no queue depth: unknown, not zero.
    expect(ans.queueDepth).toBeNull();
  });

  it('reads only what was appended since the last look, and a line split across two writes once', () => {
    const f = path.join(dir, 'grow.jsonl');
    const line = completed('g1', 'ok');
    fs.writeFileSync(f, line.slice(0, 40));
    expect(lookupRunsInLogs([f], ['g1']).summary.processed).toBe(0);
    fs.appendFileSync(f, line.slice(40));
    expect(lookupRunsInLogs([f], ['g1']).runs.g1).toEqual({ processed: 1 });
    fs.appendFileSync(f, completed('g2', 'ok'));
    const ans = lookupRunsInLogs([f], ['g1', 'g2']);
    expect(ans.runs).toEqual({ g1: { processed: 1 }, g2: { processed: 1 } });
  });

  it('starts over when a log is truncated', () => {
    const f = path.join(dir, 'rotate.jsonl');
    fs.writeFileSync(f, completed('t1', 'ok') + completed('t2', 'ok'));
    expect(lookupRunsInLogs([f], ['t1', 't2']).summary.processed).toBe(2);
    fs.writeFileSync(f, completed('t3', 'ok'));
    expect(lookupRunsInLogs([f], ['t1', 't3']).runs).toEqual({ t1: { processed: 0 }, t3: { processed: 1 } });
  });

  it('account() over logs: a run that never completes is lost; one key with two runs is duplicated', async () => {
    const f = path.join(dir, 'acct.jsonl');
    fs.writeFileSync(f, completed('a1', 'error') + completed('a2', 'error'));
    const acct = await account({ logFiles: [f] }, [
      { key: 'k1', runId: 'a1' },
      { key: 'k2', runId: 'a2' },
      { key: 'k2', runId: 'a3' }, // the same key answered with another run (a replay on another gateway)
      { key: 'k4', runId: 'a4' }, // acknowledged, never completed
    ], { timeoutMs: 300, intervalMs: 50 });
    expect(acct.acknowledged).toBe(3);
    expect(acct.lost).toBe(2); // a3 and a4
    expect(acct.lostRunIds.sort()).toEqual(['a3', 'a4']);
    expect(acct.duplicatedKeys).toBe(1);
    expect(acct.outcomes).toEqual({ error: 2 });
    // The wait ends at the deadline, not earlier: a4 might still have completed.
    expect(acct.drainMs).toBeNull();
  });
});
