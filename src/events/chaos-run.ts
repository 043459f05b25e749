// A drill or storm run (`clawstorm drill`, `clawstorm storm`) told as events after it ended:
// its drills' timelines at their own times, then the verdict. The events file lands beside the
// reports; no receiver (the gate's --faro-url is where live runs send theirs).
import fs from 'node:fs';
import { emitDrill } from './emit.ts';
import { RunEvents } from './run-events.ts';
import { eventsRecord, type EventsRecord } from './section.ts';

export async function recordChaosRun(
  outDir: string,
  r: { runId: string; startedAt: string; profile: string; target: string; verdict: string; exitCode: number; drills?: readonly { name: string; status: string; startedAt?: string | undefined; events?: readonly { t: number; label: string; kind?: string | undefined }[] | undefined }[] | undefined },
  kind: string,
): Promise<EventsRecord> {
  fs.mkdirSync(outDir, { recursive: true });
  const ev = new RunEvents({ runId: r.runId, outDir, attributes: { profile: r.profile, target: r.target } });
  ev.event('run_start', { kind }, new Date(r.startedAt));
  for (const d of r.drills ?? []) emitDrill(ev, d);
  ev.event('verdict', { verdict: r.verdict, exit_code: r.exitCode });
  ev.event('run_end', { verdict: r.verdict });
  return eventsRecord(await ev.close(), outDir);
}
