// Run one of the target profile's fault commands for a gateway (a kubectl, systemctl or launchctl
// call). stop, kill and pause are journalled with the command that reverses them (start, resume),
// which must exist; start and resume are recoveries and undo nothing.
import { z } from 'zod';
import { journalled, runCommand } from '../../faults/actions.ts';
import { TargetError } from '../../target/bind.ts';
import { gatewayOf } from '../../target/target.ts';
import { defineStep } from './step.ts';

const REVERSE = { stop: 'start', kill: 'start', pause: 'resume' } as const;

export default defineStep({
  key: 'command',
  schema: z.strictObject({ gateway: z.string().min(1), fault: z.enum(['stop', 'start', 'kill', 'pause', 'resume']) }),
  refs: (a) => [{ field: 'gateway', kind: 'gateway', name: a.gateway }],
  async run(a, ctx) {
    const t = ctx.target;
    const commands = gatewayOf(t, a.gateway).faults;
    const cmd = commands?.[a.fault];
    if (cmd === undefined) throw new TargetError(`${t.profile.file}: gateways[${a.gateway}].faults.${a.fault}: no such command`);
    const what = `${a.gateway} ${a.fault}`;
    if (a.fault === 'start' || a.fault === 'resume') {
      await runCommand(cmd, what);
    } else {
      const reverse = REVERSE[a.fault];
      if (commands?.[reverse] === undefined) throw new TargetError(`${t.profile.file}: gateways[${a.gateway}].faults.${reverse}: needed to undo ${a.fault}`);
      await journalled(ctx.journal, ctx.id, `${what} (command)`, { kind: 'command', gateway: a.gateway, fault: reverse }, () => runCommand(cmd, what));
    }
    ctx.ev(`${a.gateway}: ${a.fault} command ran`, 'fault');
  },
});
