import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, JournalError, journalDir, readJournal, unfinishedJournals } from '../../../src/faults/journal.ts';
import { listTestbeds } from '../../../src/testbed/state.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('drill journal', () => {
  it('is on disk after every change: intent before the change, applied after, undone last-first', () => {
    const j = Journal.create({ file: path.join(dir, 'a.json'), id: 'a', drill: 'gateway-pair', target: { kind: 'testbed', stateDir: '/x' } });
    expect(readJournal(j.file).status).toBe('running');
    const a = j.intent('scope', 'haproxy gw-3 state maint', { kind: 'lb.state', server: 'gw-3', state: 'ready' });
    expect(readJournal(j.file).entries[0]?.state).toBe('intent');
    j.mark(a, 'applied');
    const b = j.intent('take-out', 'SIGKILL gw-1', { kind: 'gateway.restore', gateway: 'gw-1' });
    // A kill right here leaves an intent: it is undone too (undos are idempotent).
    expect(readJournal(j.file).entries.map((e) => e.state)).toEqual(['applied', 'intent']);
    expect(Journal.open(j.file).pending().map((e) => e.id)).toEqual([b, a]);
    j.mark(b, 'rolled-back');
    expect(j.pending().map((e) => e.id)).toEqual([a]);
    expect(readJournal(j.file).entries[1]?.rolledBackAt).toBeDefined();
    const mode = fs.statSync(j.file).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('never stores a token value: token undos name profile tokens', () => {
    const j = Journal.create({ file: path.join(dir, 't.json'), id: 't', drill: 'token-rotation', target: { kind: 'profile', file: '/p.yaml' } });
    j.intent('overlap', 'accept gateway + next', { kind: 'gateway.tokens', gateways: ['gw-1'], tokens: ['gateway'] });
    expect(fs.readFileSync(j.file, 'utf8')).toContain('"tokens": [\n');
    expect(() => j.intent('x', 'y', { kind: 'gateway.tokens', gateways: ['gw-1'], tokens: [] })).toThrow();
  });

  it('lists unfinished journals newest first; rejects what is not a journal', async () => {
    const a = Journal.create({ file: path.join(dir, 'a.json'), id: 'a', drill: 'd', target: { kind: 'testbed', stateDir: '/x' } });
    await new Promise((r) => setTimeout(r, 5));
    const b = Journal.create({ file: path.join(dir, 'b.json'), id: 'b', drill: 'd', target: { kind: 'testbed', stateDir: '/x' } });
    const c = Journal.create({ file: path.join(dir, 'c.json'), id: 'c', drill: 'd', target: { kind: 'testbed', stateDir: '/x' } });
    c.setStatus('rolled-back');
    fs.writeFileSync(path.join(dir, 'junk.json'), '{"not":"a journal"}');
    expect(unfinishedJournals(dir)).toEqual([b.file, a.file]);
    expect(() => readJournal(path.join(dir, 'junk.json'))).toThrow(JournalError);
    expect(() => readJournal(path.join(dir, 'missing.json'))).toThrow(/cannot read drill journal \(ENOENT\)/);
  });

  it('keeps journals inside the state directory the user named, where the bed listing ignores them', () => {
    const saved = { state: process.env.CLAWSTORM_STATE_DIR, journal: process.env.CLAWSTORM_JOURNAL_DIR };
    try {
      delete process.env.CLAWSTORM_JOURNAL_DIR;
      process.env.CLAWSTORM_STATE_DIR = path.join(dir, 'beds');
      expect(journalDir()).toBe(path.join(dir, 'beds', 'journals'));
      const j = Journal.create({ id: 'k', drill: 'd', target: { kind: 'testbed', stateDir: '/x' } });
      expect(path.dirname(j.file)).toBe(path.join(dir, 'beds', 'journals'));
      expect(fs.readdirSync(dir)).toEqual(['beds']);
      expect(listTestbeds()).toEqual([]);
      process.env.CLAWSTORM_JOURNAL_DIR = path.join(dir, 'elsewhere');
      expect(journalDir()).toBe(path.join(dir, 'elsewhere'));
    } finally {
      for (const [k, v] of [['CLAWSTORM_STATE_DIR', saved.state], ['CLAWSTORM_JOURNAL_DIR', saved.journal]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
