// CPU accounting and core pinning for the benches. A generator's cost is the CPU time of its own
// process (all its threads: GC helpers and libuv included), never the machine's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

let ticks: number | undefined;
/** Clock ticks per second of /proc times (USER_HZ; 100 on Linux unless told otherwise). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Fields after the command name of a /proc/<pid>/stat line: index 0 is field 3 (state). */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
}

/** utime + stime (fields 14, 15) and cutime + cstime (16, 17) of a /proc stat line, seconds. */
export function cpuOfStat(stat: string, tck = clockTicks()): { self: number; waitedChildren: number } {
  const f = statFields(stat);
  const n = (i: number): number => Number(f[i] ?? Number.NaN);
  return { self: (n(11) + n(12)) / tck, waitedChildren: (n(13) + n(14)) / tck };
}

/** CPU seconds a live process has used so far (all threads), or undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return cpuOfStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).self;
  } catch {
    return undefined;
  }
}

/** Pin a process (and with allThreads every thread of it) to one core; false when that failed. */
export function pinToCore(pid: number, core: number, allThreads = true): boolean {
  if (core < 0 || core >= os.availableParallelism()) return false;
  try {
    execFileSync('taskset', [...(allThreads ? ['-a'] : []), '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
