// command: one of the profile's fault commands for a gateway. stop, kill and pause are journalled
// (before they run) with the command that reverses them; start and resume are recoveries and
// journal nothing. The commands here append what ran to a file, with the state of the newest
// journal entry at that moment.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import command from '../../../../src/chaos/steps/command.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { appendCommand, failingCommand, fakeTarget, readLines, runStep, startFleet, stepContext, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let log = '';

beforeAll(async () => {
  // The journal and the log live in the fleet's directory, known once it exists: the commands
  // are filled in below, before any target is made.
  fleet = await startFleet({ gateways: [{ name: 'gw-1' }, { name: 'gw-2' }] });
  log = path.join(fleet.dir, 'commands.log');
  const cmd = (line: string) => appendCommand(log, line, fleet.journalFile);
  fleet.gw('gw-1').options.faults = { stop: cmd('stop gw-1'), start: cmd('start gw-1'), kill: cmd('kill gw-1'), pause: cmd('pause gw-1'), resume: cmd('resume gw-1') };
  // gw-2's platform can stop it but the start command is broken.
  fleet.gw('gw-2').options.faults = { stop: cmd('stop gw-2'), start: failingCommand('unit gw-2 not found') };
});
afterAll(() => fleet.close());
beforeEach(() => {
  fleet.reset();
  fs.rmSync(log, { force: true });
});

describe('command', () => {
  it('stop runs after its intent is on disk, is journalled with start as its undo, and rollback runs start', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t, { id: 'stop-1' });
    await runStep({ id: 'stop-1', command: { gateway: 'gw-1', fault: 'stop' } }, r.ctx);
    expect(readLines(log)).toEqual(['stop gw-1 intent']);
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.action, e.state, e.undo])).toEqual([['stop-1', 'gw-1 stop (command)', 'applied', { kind: 'command', gateway: 'gw-1', fault: 'start' }]]);
    expect(r.events).toEqual([{ label: 'gw-1: stop command ran', kind: 'fault' }]);
    const out = await rollback(r.journal, t);
    expect(out.undone).toEqual(['stop-1: gw-1 start command ran']);
    // The undo runs before its entry is marked rolled back: a kill meanwhile leaves it to redo.
    expect(readLines(log)).toEqual(['stop gw-1 intent', 'start gw-1 applied']);
    expect(r.journal.snapshot.entries[0]?.state).toBe('rolled-back');
  });

  it('kill is undone by start and pause by resume', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ command: { gateway: 'gw-1', fault: 'kill' } }, r.ctx);
    await runStep({ command: { gateway: 'gw-1', fault: 'pause' } }, r.ctx);
    expect(r.journal.snapshot.entries.map((e) => e.undo)).toEqual([
      { kind: 'command', gateway: 'gw-1', fault: 'start' },
      { kind: 'command', gateway: 'gw-1', fault: 'resume' },
    ]);
    await rollback(r.journal, t);
    expect(readLines(log).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['kill gw-1', 'pause gw-1', 'resume gw-1', 'start gw-1']);
  });

  it('start and resume run without a journal entry (they undo nothing)', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ command: { gateway: 'gw-1', fault: 'start' } }, r.ctx);
    await runStep({ command: { gateway: 'gw-1', fault: 'resume' } }, r.ctx);
    expect(readLines(log)).toEqual(['start gw-1 no-entry', 'resume gw-1 no-entry']);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.events.map((e) => e.label)).toEqual(['gw-1: start command ran', 'gw-1: resume command ran']);
  });

  it('a fault without its reversing command is refused before anything runs', async () => {
    const t = fakeTarget(fleet);
    // The profile schema already refuses this; a target built another way must not slip through.
    t.gateways[0]!.faults = { kill: appendCommand(log, 'kill gw-1', fleet.journalFile), pause: appendCommand(log, 'pause gw-1', fleet.journalFile) };
    const r = stepContext(fleet, t);
    await expect(runStep({ command: { gateway: 'gw-1', fault: 'kill' } }, r.ctx)).rejects.toThrow(/gateways\[gw-1\]\.faults\.start: needed to undo kill/);
    await expect(runStep({ command: { gateway: 'gw-1', fault: 'pause' } }, r.ctx)).rejects.toThrow(/gateways\[gw-1\]\.faults\.resume: needed to undo pause/);
    expect(readLines(log)).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
  });

  it('a command the profile does not have, or an unknown gateway, is refused', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ command: { gateway: 'gw-2', fault: 'pause' } }, r.ctx)).rejects.toThrow(/gateways\[gw-2\]\.faults\.pause: no such command/);
    await expect(runStep({ command: { gateway: 'gw-7', fault: 'stop' } }, r.ctx)).rejects.toThrow(/no gateway "gw-7"/);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(command.refs?.(command.schema.parse({ gateway: 'gw-7', fault: 'stop' }), [])).toEqual([{ field: 'gateway', kind: 'gateway', name: 'gw-7' }]);
    expect(StepSchema.safeParse({ command: { gateway: 'gw-1', fault: 'reboot' } }).success).toBe(false);
  });

  it('a failing reverse command: rollback reports it and keeps the entry for `drill rollback`', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ command: { gateway: 'gw-2', fault: 'stop' } }, r.ctx);
    const out = await rollback(r.journal, t);
    expect(out.ok).toBe(false);
    expect(out.failed).toEqual([expect.stringMatching(/^step-1: gw-2 stop \(command\): gw-2 start: command exited 3: unit gw-2 not found$/)]);
    expect(r.journal.snapshot.entries[0]?.state).toBe('rollback-failed');
    expect(r.journal.pending()).toHaveLength(1);
  }, 15_000);
});
