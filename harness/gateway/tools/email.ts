import { z } from 'zod';
import { defineTool, UserIdArg } from './registry.ts';
import { enc, readParsed } from './read.ts';
import { GmailListSchema, GmailMessageSchema, gmailHeader, type GmailMessage } from './upstream-shapes.ts';

function summary(m: GmailMessage) {
  return {
    id: m.id,
    threadId: m.threadId ?? m.id,
    from: gmailHeader(m, 'From'),
    subject: gmailHeader(m, 'Subject'),
    date: gmailHeader(m, 'Date'),
    labels: m.labelIds,
    snippet: m.snippet,
  };
}

export const emailSearchTool = defineTool({
  name: 'email_search',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, query: z.string().max(500).default(''), max: z.number().int().min(1).max(100).default(25) }),
  classification: 'confidential',
  targetSystem: 'gmail',
  additional: (a) => ({ operation: 'search', query_length: a.query.length }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const list = await readParsed(ctx, 'gmail', `/gmail/v1/users/${enc(u)}/messages?q=${enc(a.query)}&maxResults=${a.max}`, u, GmailListSchema);
    return {
      result: { total: list.resultSizeEstimate ?? list.messages.length, count: list.messages.length, messages: list.messages.map(summary) },
      dataAccessed: list.messages.map((m) => `gmail:${m.id}`),
    };
  },
});

export const emailReadTool = defineTool({
  name: 'email_read',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, id: z.string().regex(/^[\w-]{1,128}$/) }),
  classification: 'confidential',
  targetSystem: 'gmail',
  additional: (a) => ({ operation: 'read', id: a.id }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const m = await readParsed(ctx, 'gmail', `/gmail/v1/users/${enc(u)}/messages/${enc(a.id)}`, u, GmailMessageSchema);
    const body = m.body === undefined ? m.snippet : Buffer.from(m.body.data, 'base64url').toString('utf8');
    return { result: { message: { ...summary(m), to: gmailHeader(m, 'To'), body } }, dataAccessed: [`gmail:${m.id}`] };
  },
});
