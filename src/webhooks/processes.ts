// Which gateway process answered a webhook delivery — what tells "the same gateway after its
// restart" from "the same process" when a replayed key comes back with a second run. Two honest
// sources, each the gateway's own word:
//   - the reference gateway names the answering process on every hook answer
//     (`X-Gateway-Instance: <gateway>@<start ms>`);
//   - a real OpenClaw gateway writes `starting...` to its JSONL log each time a process starts;
//     a request sent to gateway G at time t was served by the last process of G that had started
//     by t (the one before it had exited: a restart stops the old process first, and a request
//     is never handed from one process to another).
// Neither available (a load balancer that does not say which gateway answered, a gateway without
// either): the process is unknown, and what depends on it is no data.
import fs from 'node:fs';

export interface GatewayProcess {
  gateway: string;
  /** Unique per process lifetime of that gateway. */
  id: string;
}

/** What the harness knows about one answer. */
export interface AnswerStamp {
  /** The gateway that answered (aimed at directly, or named by the load balancer). */
  gateway?: string;
  /** The gateway's own name for the answering process (`X-Gateway-Instance`). */
  instance?: string;
  /** When the request went out. */
  sentAt: number;
}

export type ProcessOf = (a: AnswerStamp) => GatewayProcess | undefined;

/**
 * The answering process of a stamp: the gateway's own instance header when it sent one, else the
 * last process start of that gateway at or before the request went out (`starts`: per gateway,
 * ms since the epoch). Undefined when neither tells.
 */
export function processResolver(starts?: ReadonlyMap<string, readonly number[]>): ProcessOf {
  const sorted = new Map<string, number[]>();
  for (const [g, ts] of starts ?? []) sorted.set(g, [...ts].sort((a, b) => a - b));
  return (a) => {
    if (a.instance !== undefined && a.instance !== '') {
      const at = a.instance.lastIndexOf('@');
      return { gateway: a.gateway ?? (at > 0 ? a.instance.slice(0, at) : a.instance), id: a.instance };
    }
    if (a.gateway === undefined) return undefined;
    const ts = sorted.get(a.gateway);
    if (ts === undefined) return undefined;
    let last: number | undefined;
    for (const t of ts) if (t <= a.sentAt) last = t;
    return last === undefined ? undefined : { gateway: a.gateway, id: `${a.gateway}@${last}` };
  };
}

// One OpenClaw log line per process start: `{"0":"{\"subsystem\":\"gateway\"}","1":"starting...",
// "_meta":{…,"date":"2026-11-29T19:12:44.823Z",…},…}`.
const START = /"1":"starting\.\.\."/;
const SUBSYSTEM_GATEWAY = /^\{"0":"\{\\"subsystem\\":\\"gateway\\"\}"/;
const DATE = /"date":"([^"]+)"/;

/** Process start times (ms) in one OpenClaw JSONL log; [] when the file is not there yet. */
export function processStartsInLog(file: string): number[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!START.test(line) || !SUBSYSTEM_GATEWAY.test(line)) continue;
    const d = DATE.exec(line);
    const t = d === null ? Number.NaN : Date.parse(d[1]!);
    if (!Number.isNaN(t)) out.push(t);
  }
  return out;
}

/** Process starts of every gateway whose log is known (gateway → JSONL log file). */
export function processStartsInLogs(logs: ReadonlyMap<string, string>): Map<string, number[]> {
  return new Map([...logs].map(([g, f]) => [g, processStartsInLog(f)]));
}
