// Identifiers a run hands out: run ids and report folder names sort by time (UTC, to the
// second) and stay unique when two runs start in the same second.
import crypto from 'node:crypto';

/** `20260517T101502`: the UTC second, sortable, safe in file and database names. */
export function timeStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

/** `[prefix-]20260517T101502-3fa9c1`. */
export function newRunId(prefix?: string, now = new Date()): string {
  const id = `${timeStamp(now)}-${crypto.randomBytes(3).toString('hex')}`;
  return prefix ? `${prefix}-${id}` : id;
}

/** A loopback source address other than 127.0.0.1: auth failures from it throttle nobody else. */
export function randomLoopback(): string {
  const o = () => 1 + crypto.randomInt(253);
  return `127.${o()}.${o()}.${o()}`;
}
