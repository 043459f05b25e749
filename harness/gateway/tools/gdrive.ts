import { z } from 'zod';
import { defineTool, UserIdArg } from './registry.ts';
import { enc, readParsed } from './read.ts';
import { DriveFileSchema, DriveListSchema, type DriveFile } from './upstream-shapes.ts';

const summary = (f: DriveFile) => ({
  id: f.id,
  name: f.name,
  mimeType: f.mimeType ?? null,
  modifiedTime: f.modifiedTime ?? null,
  owner: f.owners[0]?.emailAddress ?? null,
  url: f.webViewLink ?? null,
});

export const gdriveSearchTool = defineTool({
  name: 'gdrive_search',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, query: z.string().max(500).default(''), max: z.number().int().min(1).max(100).default(25) }),
  classification: 'confidential',
  targetSystem: 'gdrive',
  additional: (a) => ({ operation: 'search', query_length: a.query.length }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    // Drive's query language: quote-escaped fullText search; empty query lists the user's files.
    const q = a.query === '' ? '' : `fullText contains '${a.query.replace(/['\\]/g, '\\$&')}'`;
    const r = await readParsed(ctx, 'gdrive', `/drive/v3/files?owner=${enc(u)}&q=${enc(q)}&pageSize=${a.max}`, u, DriveListSchema);
    return { result: { count: r.files.length, files: r.files.map(summary) }, dataAccessed: r.files.map((f) => `gdrive:${f.id}`) };
  },
});

export const gdriveReadTool = defineTool({
  name: 'gdrive_read',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, id: z.string().regex(/^[\w-]{1,128}$/) }),
  classification: 'confidential',
  targetSystem: 'gdrive',
  additional: (a) => ({ operation: 'read', id: a.id }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const f = await readParsed(ctx, 'gdrive', `/drive/v3/files/${enc(a.id)}?owner=${enc(u)}`, u, DriveFileSchema);
    return { result: { file: { ...summary(f), description: f.description ?? '' } }, dataAccessed: [`gdrive:${f.id}`] };
  },
});
