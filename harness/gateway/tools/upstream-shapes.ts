import { z } from 'zod';

// The subset of each provider's answer the gateway relies on, parsed at the boundary. Unknown
// fields are dropped (zod's default), so what a tool returns is exactly what is declared here.

const Header = z.object({ name: z.string(), value: z.string() });
export const GmailMessageSchema = z.object({
  id: z.string(),
  threadId: z.string().optional(),
  labelIds: z.array(z.string()).default([]),
  snippet: z.string().default(''),
  internalDate: z.string().optional(),
  payload: z.object({ headers: z.array(Header).default([]) }).optional(),
  body: z.object({ data: z.string() }).optional(),
});
export type GmailMessage = z.output<typeof GmailMessageSchema>;
export const GmailListSchema = z.object({ messages: z.array(GmailMessageSchema).default([]), resultSizeEstimate: z.number().optional() });

const When = z.object({ dateTime: z.string() });
const Person = z.object({ email: z.string(), displayName: z.string().optional() });
export const CalendarEventSchema = z.object({
  id: z.string(),
  summary: z.string().default(''),
  description: z.string().optional(),
  htmlLink: z.string().optional(),
  start: When,
  end: When,
  organizer: Person.optional(),
  attendees: z.array(z.object({ email: z.string(), responseStatus: z.string().optional() })).default([]),
});
export type CalendarEvent = z.output<typeof CalendarEventSchema>;
export const CalendarListSchema = z.object({ items: z.array(CalendarEventSchema).default([]) });

export const JiraIssueSchema = z.object({
  key: z.string(),
  self: z.string().optional(),
  fields: z.object({
    summary: z.string(),
    description: z.string().nullable().optional(),
    status: z.object({ name: z.string() }),
    priority: z.object({ name: z.string() }).nullable().optional(),
    duedate: z.string().nullable().optional(),
    updated: z.string().optional(),
    labels: z.array(z.string()).default([]),
    reporter: z.object({ displayName: z.string().optional(), emailAddress: z.string().optional() }).nullable().optional(),
  }),
});
export type JiraIssue = z.output<typeof JiraIssueSchema>;
export const JiraSearchSchema = z.object({ total: z.number().optional(), issues: z.array(JiraIssueSchema).default([]) });

const Login = z.object({ login: z.string() });
const Label = z.object({ name: z.string() });
/** An item of GitHub's issue search, or one issue: pull requests carry `pull_request`. */
export const GithubIssueSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  body: z.string().nullable().optional(),
  html_url: z.string(),
  repository_url: z.string().optional(),
  user: Login,
  labels: z.array(Label).default([]),
  assignees: z.array(Login).default([]),
  requested_reviewers: z.array(Login).default([]),
  draft: z.boolean().optional(),
  pull_request: z.object({ url: z.string() }).optional(),
  created_at: z.string(),
  updated_at: z.string().optional(),
});
export type GithubIssue = z.output<typeof GithubIssueSchema>;
export const GithubSearchSchema = z.object({ total_count: z.number().optional(), items: z.array(GithubIssueSchema).default([]) });
export const GithubPullSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  body: z.string().nullable().optional(),
  html_url: z.string(),
  state: z.string().optional(),
  draft: z.boolean().optional(),
  user: Login,
  requested_reviewers: z.array(Login).default([]),
  labels: z.array(Label).default([]),
  created_at: z.string(),
  updated_at: z.string().optional(),
  base: z.object({ repo: z.object({ full_name: z.string() }) }).optional(),
});
export const GithubPullListSchema = z.array(GithubPullSchema);
export const GithubIssueListSchema = z.array(GithubIssueSchema);

export const DriveFileSchema = z.object({
  id: z.string(),
  name: z.string(),
  mimeType: z.string().optional(),
  description: z.string().optional(),
  modifiedTime: z.string().optional(),
  webViewLink: z.string().optional(),
  owners: z.array(z.object({ emailAddress: z.string().optional(), displayName: z.string().optional() })).default([]),
  lastModifyingUser: z.object({ emailAddress: z.string().optional(), displayName: z.string().optional() }).optional(),
});
export type DriveFile = z.output<typeof DriveFileSchema>;
export const DriveListSchema = z.object({ files: z.array(DriveFileSchema).default([]) });

export function gmailHeader(m: GmailMessage, name: string): string {
  return m.payload?.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value ?? '';
}
