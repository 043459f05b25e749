import { z } from 'zod';
import { addDays, freeBlocks } from './briefing.ts';
import { defineTool, UserIdArg } from './registry.ts';
import { enc, readParsed } from './read.ts';
import { CalendarListSchema, type CalendarEvent } from './upstream-shapes.ts';

function summary(e: CalendarEvent) {
  return { id: e.id, summary: e.summary, start: e.start.dateTime, end: e.end.dateTime, organizer: e.organizer?.email ?? null, attendees: e.attendees.length };
}
const today = () => new Date().toISOString().slice(0, 10);

export const calendarReadTool = defineTool({
  name: 'calendar_read',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, date: z.iso.date().optional() }),
  classification: 'internal',
  targetSystem: 'calendar',
  additional: (a) => ({ operation: 'read', date: a.date ?? null }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const date = a.date ?? today();
    const list = await readParsed(ctx, 'calendar', `/calendar/v3/calendars/${enc(u)}/events?timeMin=${date}T00:00:00Z&timeMax=${addDays(date, 1)}T00:00:00Z`, u, CalendarListSchema);
    return {
      result: { date, count: list.items.length, events: list.items.map(summary), freeBlocks: freeBlocks(list.items, date) },
      dataAccessed: list.items.map((e) => `calendar:${e.id}`),
    };
  },
});

export const calendarSearchTool = defineTool({
  name: 'calendar_search',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, query: z.string().max(500).default(''), from: z.iso.date().optional(), to: z.iso.date().optional() }),
  classification: 'internal',
  targetSystem: 'calendar',
  additional: (a) => ({ operation: 'search', query_length: a.query.length }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const from = a.from ?? today();
    const to = a.to ?? addDays(from, 7);
    const list = await readParsed(ctx, 'calendar', `/calendar/v3/calendars/${enc(u)}/events?timeMin=${from}T00:00:00Z&timeMax=${to}T00:00:00Z&q=${enc(a.query)}`, u, CalendarListSchema);
    return { result: { from, to, count: list.items.length, events: list.items.map(summary) }, dataAccessed: list.items.map((e) => `calendar:${e.id}`) };
  },
});
