import { z } from 'zod';
import { defineTool, UserIdArg } from './registry.ts';
import { enc, readParsed } from './read.ts';
import { JiraIssueSchema, JiraSearchSchema, type JiraIssue } from './upstream-shapes.ts';

function summary(i: JiraIssue) {
  return {
    key: i.key,
    summary: i.fields.summary,
    status: i.fields.status.name,
    priority: i.fields.priority?.name ?? null,
    due: i.fields.duedate ?? null,
    labels: i.fields.labels,
  };
}

export const jiraReadTool = defineTool({
  name: 'jira_read',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, key: z.string().regex(/^[A-Z][A-Z0-9]{1,9}-\d{1,7}$/).optional() }),
  classification: 'internal',
  targetSystem: 'jira',
  additional: (a) => ({ operation: 'read', key: a.key ?? null }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    if (a.key !== undefined) {
      const i = await readParsed(ctx, 'jira', `/jira/rest/api/3/issue/${enc(a.key)}?assignee=${enc(u)}`, u, JiraIssueSchema);
      return { result: { issue: { ...summary(i), description: i.fields.description ?? null } }, dataAccessed: [`jira:${i.key}`] };
    }
    const jql = `assignee = "${u}" AND statusCategory != Done ORDER BY priority DESC`;
    const r = await readParsed(ctx, 'jira', `/jira/rest/api/3/search?assignee=${enc(u)}&jql=${enc(jql)}&maxResults=100`, u, JiraSearchSchema);
    return { result: { total: r.total ?? r.issues.length, issues: r.issues.map(summary) }, dataAccessed: r.issues.map((i) => `jira:${i.key}`) };
  },
});

export const jiraSearchTool = defineTool({
  name: 'jira_search',
  domain: 'integrations',
  schema: z.object({ user_id: UserIdArg, jql: z.string().min(1).max(2_000), max: z.number().int().min(1).max(100).default(50) }),
  classification: 'internal',
  targetSystem: 'jira',
  additional: (a) => ({ operation: 'search', jql_length: a.jql.length }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const r = await readParsed(ctx, 'jira', `/jira/rest/api/3/search?assignee=${enc(u)}&jql=${enc(a.jql)}&maxResults=${a.max}`, u, JiraSearchSchema);
    return { result: { total: r.total ?? r.issues.length, issues: r.issues.map(summary) }, dataAccessed: r.issues.map((i) => `jira:${i.key}`) };
  },
});
