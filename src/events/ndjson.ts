// events.ndjson in a run folder: one Faro transport item per line, as faro-core hands it to a
// transport — `{"type":"event","payload":{name, domain, attributes, timestamp}}`, measurements
// and logs alike — without the session meta, which is the same on every line and is written
// once, first, as `{"type":"meta","payload":{…}}`. The report's event timeline reads it back.
import fs from 'node:fs';
import { z } from 'zod';

const Attrs = z.record(z.string(), z.string());

export const EventLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('meta'), payload: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('event'), payload: z.object({ name: z.string(), timestamp: z.string(), domain: z.string().optional(), attributes: Attrs.optional() }) }),
  z.object({ type: z.literal('measurement'), payload: z.object({ type: z.string(), timestamp: z.string(), values: z.record(z.string(), z.number()), context: Attrs.optional() }) }),
  z.object({ type: z.literal('log'), payload: z.object({ message: z.string(), level: z.string(), timestamp: z.string(), context: Attrs.optional().nullable() }) }),
]);
export type EventLine = z.output<typeof EventLineSchema>;

export const EVENTS_FILE = 'events.ndjson';

/** The lines of an events file; a line that does not parse is counted, not fatal (a run cut short may leave half a line). */
export function readEventLines(file: string): { lines: EventLine[]; unreadable: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const lines: EventLine[] = [];
  let unreadable = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const r = EventLineSchema.safeParse(JSON.parse(raw));
      if (r.success) lines.push(r.data);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { lines, unreadable };
}
