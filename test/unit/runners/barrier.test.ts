// The start barrier where no parent launches the runners (the judge of an Indexed Job is their
// starter): it releases once every runner is ready, or — bounded — without the ones that never
// got ready, naming them; every runner waiting at the barrier starts at the one instant.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awaitBarrier, markReady, releaseWhenReady } from '../../../src/runners/barrier.ts';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-barrier-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('releaseWhenReady', () => {
  it('waits for the last ready mark, then every waiting runner starts at the same instant', async () => {
    const dir = path.join(work, 'all');
    const file = path.join(dir, 'start.json');
    const signal = new AbortController().signal;
    markReady(dir, 'r-1');
    markReady(dir, 'r-2');
    const waiting = [awaitBarrier(file, 30_000, signal), awaitBarrier(file, 30_000, signal)];
    const lines: string[] = [];
    const released = releaseWhenReady({ resultsDir: dir, runnerIds: ['r-1', 'r-2', 'r-3'], file, timeoutMs: 30_000, signal, log: (l) => lines.push(l), pollMs: 20 });
    // Not released while r-3 is not ready.
    await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(file), lines.join('\n')).toBe(false);
    markReady(dir, 'r-3');
    const { startAt, notReady } = await released;
    expect(notReady).toEqual([]);
    expect(await Promise.all(waiting)).toEqual([startAt, startAt]);
    expect(lines.at(-1)).toMatch(/all 3 runners ready; released together/);
  });

  it('a runner that never gets ready is left out after the bound, named, and the rest are released', async () => {
    const dir = path.join(work, 'short');
    const file = path.join(dir, 'start.json');
    markReady(dir, 'r-1');
    const lines: string[] = [];
    const { notReady } = await releaseWhenReady({ resultsDir: dir, runnerIds: ['r-1', 'r-2'], file, timeoutMs: 300, signal: new AbortController().signal, log: (l) => lines.push(l), pollMs: 20 });
    expect(notReady).toEqual(['r-2']);
    expect(fs.existsSync(file)).toBe(true);
    expect(lines.at(-1)).toMatch(/r-2 not ready within 300 ?ms; released the other 1/);
  });
});
