// gateway.fault on a profile target: crash, drain and hang become the profile's kill, stop and
// pause commands, each journalled (before it runs) with the command that reverses it; a fault
// whose reverse is missing is refused before anything runs. (On the local test bed the same step
// sends signals through the bed's control API; that path needs real gateway processes.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import gatewayFault from '../../../../src/chaos/steps/gateway-fault.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { appendCommand, failingCommand, fakeTarget, readLines, runStep, startFleet, stepContext, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let log = '';
const cmd = (line: string) => appendCommand(log, line, fleet.journalFile);

beforeAll(async () => {
  fleet = await startFleet({ gateways: [{ name: 'gw-1' }, { name: 'gw-2' }] });
  log = path.join(fleet.dir, 'commands.log');
  fleet.gw('gw-1').options.faults = { stop: cmd('stop gw-1'), start: cmd('start gw-1'), kill: cmd('kill gw-1'), pause: cmd('pause gw-1'), resume: cmd('resume gw-1') };
  // gw-2 can only be stopped (and started): no kill, no pause.
  fleet.gw('gw-2').options.faults = { stop: failingCommand('gw-2: permission denied'), start: cmd('start gw-2') };
});
afterAll(() => fleet.close());
beforeEach(() => {
  fleet.reset();
  fs.rmSync(log, { force: true });
});

describe('gateway.fault (profile commands)', () => {
  it.each([
    ['crash', 'kill', 'start', 'gw-1 crashed (SIGKILL)'],
    ['drain', 'stop', 'start', 'gw-1 drained and stopped (SIGTERM)'],
    ['hang', 'pause', 'resume', 'gw-1 hung (SIGSTOP)'],
  ] as const)('%s runs %s once its intent is on disk; rollback runs %s', async (mode, fault, reverse, said) => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t, { id: 'take-out' });
    await runStep({ id: 'take-out', 'gateway.fault': { gateway: 'gw-1', mode } }, r.ctx);
    expect(readLines(log)).toEqual([`${fault} gw-1 intent`]);
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.action, e.state, e.undo])).toEqual([
      ['take-out', `${fault} gw-1 (${mode}, profile command)`, 'applied', { kind: 'command', gateway: 'gw-1', fault: reverse }],
    ]);
    expect(r.events).toEqual([{ label: said, kind: 'fault' }]);
    const out = await rollback(r.journal, t);
    expect(out.undone).toEqual([`take-out: gw-1 ${reverse} command ran`]);
    expect(readLines(log)).toEqual([`${fault} gw-1 intent`, `${reverse} gw-1 applied`]);
    // Nothing is left for `drill rollback`.
    expect(r.journal.pending()).toEqual([]);
  });

  it('a mode whose command (or whose reverse) the profile lacks is refused before anything runs', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'gateway.fault': { gateway: 'gw-2', mode: 'hang' } }, r.ctx)).rejects.toThrow(/gateways\[gw-2\]\.faults\.pause: required for this fault/);
    // Past the profile schema (which refuses it too): kill without start.
    t.gateways[0]!.faults = { kill: cmd('kill gw-1') };
    await expect(runStep({ 'gateway.fault': { gateway: 'gw-1', mode: 'crash' } }, r.ctx)).rejects.toThrow(/gateways\[gw-1\]\.faults\.start: required for this fault/);
    expect(readLines(log)).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.events).toEqual([]);
  });

  it('a failing command fails the step; its entry is kept as failed and rollback still runs the reverse', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'gateway.fault': { gateway: 'gw-2', mode: 'drain' } }, r.ctx)).rejects.toThrow(/gw-2 stop: command exited 3: gw-2: permission denied/);
    expect(r.journal.snapshot.entries.map((e) => [e.state, e.error])).toEqual([['failed', expect.stringMatching(/permission denied/)]]);
    expect(r.events).toEqual([]);
    // A failed command may have half-happened: its undo runs (undos are idempotent).
    await rollback(r.journal, t);
    expect(readLines(log)).toEqual(['start gw-2 failed']);
  });

  it('an unknown gateway is refused; refs and schema', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'gateway.fault': { gateway: 'gw-3', mode: 'crash' } }, r.ctx)).rejects.toThrow(/no gateway "gw-3" \(has gw-1, gw-2\)/);
    expect(gatewayFault.refs?.(gatewayFault.schema.parse({ gateway: 'gw-3', mode: 'crash' }), [])).toEqual([{ field: 'gateway', kind: 'gateway', name: 'gw-3' }]);
    expect(StepSchema.safeParse({ 'gateway.fault': { gateway: 'gw-1', mode: 'explode' } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.fault': { gateway: 'gw-1' } }).success).toBe(false);
  });
});
