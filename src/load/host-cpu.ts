// The whole host's CPU, read from /proc/stat (Linux), so the generator can say what share of the
// machine it took: on a local test bed every CPU-second it spends is taken from the fleet.
import fs from 'node:fs';

/** Cumulative ticks of the aggregate "cpu" line: busy (all but idle and iowait) and total. */
export interface HostTicks {
  busy: number;
  total: number;
  /** Time a hypervisor ran someone else while this machine wanted the CPU. */
  steal: number;
}

/** Host CPU ticks so far, or undefined where /proc/stat cannot be read (not Linux). */
export function readHostTicks(): HostTicks | undefined {
  let line: string;
  try {
    const fd = fs.openSync('/proc/stat', 'r');
    try {
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      line = buf.toString('latin1', 0, n).split('\n', 1)[0] ?? '';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (!line.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return undefined;
  const total = v.reduce((a, x) => a + x, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total, steal: v[7] ?? 0 };
}

/**
 * Between two readings: the host's busy share of all its cores (0–1), and the host's busy CPU
 * seconds, given the wall time between the readings and the number of cores. Ticks are converted
 * through the readings themselves (total ticks = wall × cores), so USER_HZ is not needed.
 */
export function hostBusyBetween(a: HostTicks, b: HostTicks, wallSeconds: number, cores: number): { busyFraction: number; busyCpuSeconds: number; stealFraction: number } | undefined {
  const total = b.total - a.total;
  if (total <= 0 || wallSeconds <= 0) return undefined;
  const busyFraction = Math.min(1, Math.max(0, (b.busy - a.busy) / total));
  const stealFraction = Math.min(1, Math.max(0, (b.steal - a.steal) / total));
  return { busyFraction, busyCpuSeconds: busyFraction * wallSeconds * cores, stealFraction };
}
