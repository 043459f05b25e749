// Read wrk's --latency report: total requests, its duration, and latency percentiles.

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export interface WrkReport {
  requests: number;
  seconds: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export function parseWrk(out: string): WrkReport {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  if (total === null) throw new Error(`could not read wrk output:\n${out}`);
  const lat = (pct: string): number | null => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m === null ? null : Number(m[1]) * (UNIT_MS[m[2] as string] ?? Number.NaN);
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socketErrors === null ? 0 : socketErrors.slice(1).reduce((a, x) => a + Number(x), 0)) + (non2xx === null ? 0 : Number(non2xx[1]));
  return {
    requests: Number(total[1]),
    seconds: (Number(total[2]) * (UNIT_MS[total[3] as string] ?? Number.NaN)) / 1000,
    errors,
    p50Ms: lat('50'),
    p99Ms: lat('99'),
  };
}
