// gateway.restore: undo now, in the drill's own order, what earlier steps did to one gateway's
// process (a fault command or a stop), mark those entries rolled back so the final rollback does
// not repeat them, and leave every other change to the final rollback.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import gatewayRestore from '../../../../src/chaos/steps/gateway-restore.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { appendCommand, failingCommand, fakeTarget, readLines, runStep, startFleet, stepContext, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let log = '';
const cmd = (line: string) => appendCommand(log, line, fleet.journalFile);

beforeAll(async () => {
  fleet = await startFleet({ gateways: [{ name: 'gw-1' }, { name: 'gw-2' }] });
  log = path.join(fleet.dir, 'commands.log');
  for (const g of ['gw-1', 'gw-2']) fleet.gw(g).options.faults = { stop: cmd(`stop ${g}`), start: cmd(`start ${g}`), pause: cmd(`pause ${g}`), resume: cmd(`resume ${g}`) };
});
afterAll(() => fleet.close());
beforeEach(() => {
  fleet.reset();
  fs.rmSync(log, { force: true });
});

describe('gateway.restore', () => {
  it("undoes that gateway's process faults now, last first; the final rollback does the rest and does not repeat them", async () => {
    const t = fakeTarget(fleet);
    const before = fleet.snapshot();
    const r = stepContext(fleet, t);
    // One context per step, as the engine makes them: same journal, the step's own id.
    const as = (id: string, label = id) => ({ ...r.ctx, id, label });
    await runStep({ 'gateway.fault': { gateway: 'gw-1', mode: 'hang' } }, as('hang-1'));
    await runStep({ 'gateway.faults': { gateways: ['gw-1'], patch: { latencyMs: 500 } } }, as('slow-1'));
    await runStep({ 'gateway.fault': { gateway: 'gw-2', mode: 'drain' } }, as('drain-2'));
    await runStep({ command: { gateway: 'gw-1', fault: 'stop' } }, as('stop-1'));
    r.events.length = 0;
    fs.rmSync(log);

    await runStep({ id: 'bring-back', name: 'bring gw-1 back', 'gateway.restore': { gateway: 'gw-1' } }, as('bring-back', 'bring gw-1 back'));
    expect(readLines(log)).toEqual(['start gw-1 applied', 'resume gw-1 rolled-back']);
    expect(r.events).toEqual([
      { label: 'bring gw-1 back: gw-1 start command ran', kind: 'recover' },
      { label: 'bring gw-1 back: gw-1 resume command ran', kind: 'recover' },
    ]);
    expect(r.journal.snapshot.entries.map((e) => `${e.action}: ${e.state}`)).toEqual([
      'pause gw-1 (hang, profile command): rolled-back',
      'gw-1 faults {"latencyMs":500}: applied',
      'stop gw-2 (drain, profile command): applied',
      'gw-1 stop (command): rolled-back',
    ]);
    // The admin change to gw-1 is not a process fault: it stays until the final rollback.
    expect(fleet.gw('gw-1').state.faults.latencyMs).toBe(500);

    fs.rmSync(log);
    const out = await rollback(r.journal, t);
    expect(out.undone).toEqual(['drain-2: gw-2 start command ran', 'slow-1: gw-1 faults {"latencyMs":0}']);
    // (The state logged is the newest entry's: gw-1's stop, restored above.)
    expect(readLines(log)).toEqual(['start gw-2 rolled-back']);
    expect(fleet.snapshot()).toEqual(before);
  });

  it('nothing to restore says so and changes nothing', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t, { label: 'restore gw-2' });
    await runStep({ 'gateway.fault': { gateway: 'gw-1', mode: 'drain' } }, r.ctx);
    r.events.length = 0;
    fs.rmSync(log);
    await runStep({ 'gateway.restore': { gateway: 'gw-2' } }, r.ctx);
    expect(r.events).toEqual([{ label: 'gw-2: nothing to restore', kind: 'recover' }]);
    expect(readLines(log)).toEqual([]);
    expect(r.journal.pending().map((e) => e.action)).toEqual(['stop gw-1 (drain, profile command)']);
  });

  it('a restore that fails fails the step and keeps the entry pending for the final rollback', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ 'gateway.fault': { gateway: 'gw-2', mode: 'drain' } }, r.ctx);
    // The platform's start breaks after the fault.
    t.gateways[1]!.faults = { ...t.gateways[1]!.faults, start: failingCommand('gw-2: image pull failed') };
    await expect(runStep({ 'gateway.restore': { gateway: 'gw-2' } }, r.ctx)).rejects.toThrow(/gw-2 start: command exited 3: gw-2: image pull failed/);
    expect(r.journal.pending().map((e) => e.state)).toEqual(['applied']);
    t.gateways[1]!.faults = { ...t.gateways[1]!.faults, start: cmd('start gw-2') };
    fs.rmSync(log);
    expect((await rollback(r.journal, t)).ok).toBe(true);
    expect(readLines(log)).toEqual(['start gw-2 applied']);
  });

  it('refs and schema', () => {
    expect(gatewayRestore.refs?.(gatewayRestore.schema.parse({ gateway: 'gw-4' }), [])).toEqual([{ field: 'gateway', kind: 'gateway', name: 'gw-4' }]);
    expect(StepSchema.safeParse({ 'gateway.restore': { gateway: 'gw-1', mode: 'crash' } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.restore': {} }).success).toBe(false);
  });
});
