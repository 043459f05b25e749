// Which gateway process answered: the gateway's own instance header, or its log's process starts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processResolver, processStartsInLog } from '../../../src/webhooks/processes.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-procs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A process-start line as openclaw 2026.9.6 writes it (logging.file). */
function starting(date: string): string {
  return `${JSON.stringify({ 0: '{"subsystem":"gateway"}', 1: 'starting...', _meta: { runtime: 'node', hostname: 'vm', date, logLevelName: 'INFO', name: '{"subsystem":"gateway"}' }, time: date.replace('Z', '+00:00'), hostname: 'vm', message: 'starting...' })}\n`;
}
const other = `${JSON.stringify({ 0: '{"subsystem":"gateway/hooks"}', 1: 'starting...', _meta: { date: '2026-11-29T19:14:00.000Z' } })}\n`;
const listening = `${JSON.stringify({ 0: '{"subsystem":"gateway"}', 1: 'http server listening (14 plugins; 40.9s)', _meta: { date: '2026-11-29T19:13:29.791Z' } })}\n`;

describe('processStartsInLog', () => {
  it('finds each start of the gateway process, not other subsystems or lines', () => {
    const f = path.join(dir, 'openclaw.jsonl');
    fs.writeFileSync(f, starting('2026-11-29T19:12:44.823Z') + listening + other + starting('2026-11-29T19:15:13.858Z'));
    expect(processStartsInLog(f)).toEqual([Date.parse('2026-11-29T19:12:44.823Z'), Date.parse('2026-11-29T19:15:13.858Z')]);
    expect(processStartsInLog(path.join(dir, 'absent.jsonl'))).toEqual([]);
  });
});

describe('processResolver', () => {
  it("the gateway's own instance header wins", () => {
    const of = processResolver(new Map([['gw-1', [0]]]));
    expect(of({ instance: 'gw-1@1732', sentAt: 5 })).toEqual({ gateway: 'gw-1', id: 'gw-1@1732' });
    expect(of({ gateway: 'gw-2', instance: 'gw-2@9', sentAt: 5 })).toEqual({ gateway: 'gw-2', id: 'gw-2@9' });
  });

  it('else the last start of that gateway at or before the request went out', () => {
    const of = processResolver(new Map([['gw-1', [5_000, 1_000]]]));
    expect(of({ gateway: 'gw-1', sentAt: 4_999 })).toEqual({ gateway: 'gw-1', id: 'gw-1@1000' });
    expect(of({ gateway: 'gw-1', sentAt: 5_000 })).toEqual({ gateway: 'gw-1', id: 'gw-1@5000' });
  });

  it('unknown when nothing tells: no gateway named, no start before the request, no log', () => {
    const of = processResolver(new Map([['gw-1', [5_000]]]));
    expect(of({ sentAt: 6_000 })).toBeUndefined();
    expect(of({ gateway: 'gw-1', sentAt: 4_000 })).toBeUndefined();
    expect(of({ gateway: 'gw-2', sentAt: 6_000 })).toBeUndefined();
    expect(processResolver()({ gateway: 'gw-1', sentAt: 1 })).toBeUndefined();
  });
});
