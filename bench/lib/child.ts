// Run one generator as a child process and account its CPU: the child runs under a waiting
// shell, whose /proc stat then holds the child's whole CPU time in cutime + cstime (fields 16,
// 17). With a core given, shell and child are pinned to it (taskset), so the generator has one
// core and no more.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { hostBusyBetween, readHostTicks } from '../../src/load/host-cpu.ts';
import { cpuOfStat, processCpuSeconds } from './cpu.ts';

export interface ChildRun {
  stdout: string;
  /** CPU seconds of the whole child process, start-up included. */
  wholeProcessCpuSeconds: number;
  wallSeconds: number;
}

const SCRIPT = '"$@"; rc=$?; echo "@@STAT $(cat /proc/$$/stat)"; exit $rc';

export function runChild(argv: readonly string[], opts: { core: number | null; timeoutMs: number }): Promise<ChildRun> {
  const [cmd, args] =
    opts.core === null ? ['/bin/bash', ['-c', SCRIPT, 'bench-child', ...argv]] : ['taskset', ['-c', String(opts.core), '/bin/bash', '-c', SCRIPT, 'bench-child', ...argv]];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${argv.join(' ')} failed: ${err.message}\n${stderr.split('\n').slice(-8).join('\n')}`));
        return;
      }
      const stat = /^@@STAT (.*)$/m.exec(stdout)?.[1];
      if (stat === undefined) {
        reject(new Error(`${argv.join(' ')}: no CPU accounting line in its output`));
        return;
      }
      resolve({
        stdout: stdout.replace(/^@@STAT .*$/m, '').trim(),
        wholeProcessCpuSeconds: cpuOfStat(stat).waitedChildren,
        wallSeconds: (performance.now() - t0) / 1000,
      });
    });
  });
}

/** The last line of a child's output that parses as a JSON object. */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').reverse();
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      // keep looking
    }
  }
  throw new Error(`no JSON result line in:\n${stdout.slice(-2000)}`);
}

export interface AccountedRun extends ChildRun {
  /** The target process's CPU over the same wall time, in cores (near 1: it was the bottleneck). */
  targetCoreShare: number | null;
  /** Everyone else's CPU on the host during the run, in cores (the neighbours' load). */
  otherLoadCores: number | null;
}

/** runChild, with the target's CPU and the rest of the host's measured around it. */
export async function runAccounted(argv: readonly string[], opts: { core: number | null; timeoutMs: number; targetPid: number }): Promise<AccountedRun> {
  const host0 = readHostTicks();
  const tgt0 = processCpuSeconds(opts.targetPid);
  const child = await runChild(argv, opts);
  const host1 = readHostTicks();
  const tgt1 = processCpuSeconds(opts.targetPid);
  const targetCpu = tgt0 === undefined || tgt1 === undefined ? undefined : tgt1 - tgt0;
  const host = host0 === undefined || host1 === undefined ? undefined : hostBusyBetween(host0, host1, child.wallSeconds, os.availableParallelism());
  const others = host === undefined || targetCpu === undefined ? undefined : host.busyCpuSeconds - targetCpu - child.wholeProcessCpuSeconds;
  return {
    ...child,
    targetCoreShare: targetCpu === undefined ? null : targetCpu / child.wallSeconds,
    otherLoadCores: others === undefined ? null : Math.max(0, others) / child.wallSeconds,
  };
}
