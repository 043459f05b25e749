import crypto from 'node:crypto';
import { z } from 'zod';
import type { ConnectorName, GatewayContext } from '../context.ts';
import { ToolError, toToolError } from './errors.ts';
import { defineTool, UserIdArg } from './registry.ts';
import {
  CalendarListSchema,
  DriveListSchema,
  GithubSearchSchema,
  GmailListSchema,
  gmailHeader,
  JiraSearchSchema,
  type CalendarEvent,
  type DriveFile,
  type GithubIssue,
  type GmailMessage,
  type JiraIssue,
} from './upstream-shapes.ts';

// The briefing pipeline of OpenClaw Enterprise (task scanner → correlator → scorer), on the
// five connectors' data. All functions but the tool itself are pure and deterministic: the same
// upstream data and date give the same briefing. Times are UTC.

export type TaskKind = 'email' | 'meeting' | 'issue' | 'pull_request' | 'gh_issue' | 'doc';

export interface Task {
  id: string;
  source: ConnectorName;
  kind: TaskKind;
  title: string;
  url: string | null;
  /** ISO timestamp the task is due (reply SLA, review SLA, meeting start, Jira due date). */
  due: string | null;
  /** 0–35 from the source's own signals (priority, labels, needs-reply, review requested). */
  urgency: number;
  /** 0–15 from who asks (executives > colleagues > external). */
  senderImportance: number;
  /** Strong cross-system references: Jira keys (PAY-412) and pull requests (payments#73). */
  refs: string[];
  /** Significant title words, for weak (topical) correlation. */
  keywords: string[];
}

export interface ScoredTask extends Task {
  score: number;
  scoreParts: { urgency: number; due: number; sender: number; correlation: number };
  correlatedWith: string[];
}

const JIRA_KEY = /\b[A-Z][A-Z0-9]{1,9}-\d+\b/g;
const REPO_REF = /\b([a-z][a-z0-9-]*)#(\d+)\b/g;
const STOP = new Set(
  'about above after again also and any are because been before being below between both but can could did does doing down during each few for from further had has have having here how into its itself just more most need needs not now off once only other our out over own same should some such than that the their them then there these they this those through too under until very was were what when where which while who whom why will with would you your update question input review sync fyi blocker part needs changed looks good decision slipping again call notes meeting planning design doc docs rfc standup retro interview bug fix add bump refactor remove implement investigate document migrate metrics touches handling closes attention work'.split(
    ' ',
  ),
);

export function extractRefs(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(JIRA_KEY)) out.add(m[0]);
  for (const m of text.matchAll(REPO_REF)) out.add(`${m[1]}#${m[2]}`);
  return [...out].sort();
}

export function extractKeywords(text: string): string[] {
  const out = new Set<string>();
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (w.length >= 4 && !STOP.has(w) && !/^\d+$/.test(w)) out.add(w);
  }
  return [...out].sort();
}

const EXEC = /^(ceo|cto|cfo|coo|ciso|president)@/;
/** 15 executives, 12 VPs, 10 directors, 6 colleagues (same domain), 3 external or unknown. */
export function senderImportance(address: string | undefined, orgDomain: string | undefined): number {
  if (address === undefined || address === '') return 3;
  const a = (/<([^>]+)>/.exec(address)?.[1] ?? address).trim().toLowerCase();
  if (EXEC.test(a)) return 15;
  if (/^vp[-.]/.test(a)) return 12;
  if (/^director[-.]/.test(a)) return 10;
  if (orgDomain !== undefined && a.endsWith(`@${orgDomain}`)) return 6;
  return 3;
}

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const emailOf = (s: string): string | undefined => /<([^>]+)>/.exec(s)?.[1] ?? (s.includes('@') ? s.trim() : undefined);

/** The user's own domain, from the To: of their mail (most common), for the colleague/external split. */
export function orgDomainOf(messages: GmailMessage[]): string | undefined {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const d = emailOf(gmailHeader(m, 'To'))?.split('@')[1]?.toLowerCase();
    if (d !== undefined) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best: string | undefined;
  let n = 0;
  for (const [d, c] of [...counts].sort((a, b) => a[0].localeCompare(b[0]))) if (c > n) [best, n] = [d, c];
  return best;
}

export function emailTask(m: GmailMessage, orgDomain: string | undefined): Task {
  const subject = gmailHeader(m, 'Subject');
  const needsReply = m.labelIds.some((l) => /needs[-_ ]?reply/i.test(l));
  const important = m.labelIds.includes('IMPORTANT');
  const unread = m.labelIds.includes('UNREAD');
  const received = Number(m.internalDate ?? NaN);
  return {
    id: `gmail:${m.id}`,
    source: 'gmail',
    kind: 'email',
    title: subject || m.snippet.slice(0, 80),
    url: null,
    // A reply is expected within two days of receipt.
    due: needsReply && Number.isFinite(received) ? iso(received + 48 * HOUR) : null,
    urgency: Math.min(35, (needsReply ? 20 : 0) + (important ? 10 : 0) + (unread ? 5 : 0)),
    senderImportance: senderImportance(gmailHeader(m, 'From'), orgDomain),
    refs: extractRefs(`${subject} ${m.snippet}`),
    keywords: extractKeywords(subject),
  };
}

export function meetingTask(e: CalendarEvent, date: string, orgDomain: string | undefined): Task {
  const today = e.start.dateTime.slice(0, 10) === date;
  return {
    id: `calendar:${e.id}`,
    source: 'calendar',
    kind: 'meeting',
    title: e.summary,
    url: e.htmlLink ?? null,
    due: e.start.dateTime,
    urgency: today ? 10 : 4,
    senderImportance: senderImportance(e.organizer?.email, orgDomain),
    refs: extractRefs(`${e.summary} ${e.description ?? ''}`),
    keywords: extractKeywords(e.summary),
  };
}

const PRIORITY_URGENCY: Record<string, number> = { highest: 35, high: 28, medium: 18, low: 8, lowest: 3 };
export function issueTask(i: JiraIssue, orgDomain: string | undefined): Task {
  const base = PRIORITY_URGENCY[(i.fields.priority?.name ?? 'medium').toLowerCase()] ?? 18;
  const blocked = /blocked/i.test(i.fields.status.name) ? 5 : 0;
  const flagged = i.fields.labels.some((l) => /customer|regression|security/.test(l)) ? 3 : 0;
  return {
    id: `jira:${i.key}`,
    source: 'jira',
    kind: 'issue',
    title: `${i.key} ${i.fields.summary}`,
    url: i.self ?? null,
    due: i.fields.duedate ? `${i.fields.duedate}T17:00:00.000Z` : null,
    urgency: Math.min(35, base + blocked + flagged),
    senderImportance: senderImportance(i.fields.reporter?.emailAddress, orgDomain),
    refs: [i.key],
    keywords: extractKeywords(i.fields.summary),
  };
}

export function githubTask(g: GithubIssue, user: string): Task {
  const repo = g.repository_url?.split('/').pop() ?? /github\.com\/[^/]+\/([^/]+)\//.exec(g.html_url)?.[1] ?? 'repo';
  const isPr = g.pull_request !== undefined;
  const reviewRequested = g.requested_reviewers.some((r) => r.login === user);
  const assigned = g.assignees.some((a) => a.login === user);
  const hot = g.labels.some((l) => /urgent|hotfix/i.test(l.name)) ? 10 : 0;
  const created = Date.parse(g.created_at);
  const urgency = isPr ? (reviewRequested ? 22 : 8) + hot - (g.draft === true ? 10 : 0) : (assigned ? 16 : 6) + hot;
  return {
    id: `github:${repo}#${g.number}`,
    source: 'github',
    kind: isPr ? 'pull_request' : 'gh_issue',
    title: g.title,
    url: g.html_url,
    // Review requests are due within three days of opening.
    due: isPr && reviewRequested && Number.isFinite(created) ? iso(created + 72 * HOUR) : null,
    urgency: Math.max(0, Math.min(35, urgency)),
    senderImportance: g.user.login === user ? 0 : 6,
    refs: [...new Set([`${repo}#${g.number}`, ...extractRefs(`${g.title} ${g.body ?? ''}`)])].sort(),
    keywords: extractKeywords(g.title),
  };
}

export function docTask(f: DriveFile, user: string, orgDomain: string | undefined): Task {
  const reviewAsked = new RegExp(`review requested from ${user.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i').test(f.description ?? '');
  return {
    id: `gdrive:${f.id}`,
    source: 'gdrive',
    kind: 'doc',
    title: f.name,
    url: f.webViewLink ?? null,
    due: null,
    urgency: reviewAsked ? 15 : 3,
    senderImportance: senderImportance(f.lastModifyingUser?.emailAddress ?? f.owners[0]?.emailAddress, orgDomain),
    refs: extractRefs(`${f.name} ${f.description ?? ''}`),
    keywords: extractKeywords(f.name),
  };
}

export interface Correlations {
  /** For each task index: indices of tasks sharing a reference (strong link). */
  strong: number[][];
  /** For each task index: indices of tasks sharing ≥ 3 keywords but no reference (weak link). */
  weak: number[][];
  pairsCompared: number;
}

/**
 * Pairwise correlation across systems: every pair of tasks from different connectors is compared
 * (n²/2 comparisons). A shared reference (Jira key, repo#PR) is a strong link — an email about
 * PAY-412 and the PAY-412 issue, a PR and the calendar review of that PR; three or more shared
 * title keywords is a weak (same-topic) link.
 */
export function correlate(tasks: readonly Task[], minSharedKeywords = 3): Correlations {
  const n = tasks.length;
  const refs = tasks.map((t) => new Set(t.refs));
  const kws = tasks.map((t) => new Set(t.keywords));
  const strong: number[][] = tasks.map(() => []);
  const weak: number[][] = tasks.map(() => []);
  let pairsCompared = 0;
  for (let i = 0; i < n; i++) {
    const a = tasks[i] as Task;
    const ra = refs[i] as Set<string>;
    const ka = kws[i] as Set<string>;
    for (let j = i + 1; j < n; j++) {
      const b = tasks[j] as Task;
      if (a.source === b.source) continue;
      pairsCompared++;
      let shared = false;
      for (const r of refs[j] as Set<string>) {
        if (ra.has(r)) {
          shared = true;
          break;
        }
      }
      if (shared) {
        strong[i]?.push(j);
        strong[j]?.push(i);
        continue;
      }
      let common = 0;
      for (const k of kws[j] as Set<string>) if (ka.has(k)) common++;
      if (common >= minSharedKeywords) {
        weak[i]?.push(j);
        weak[j]?.push(i);
      }
    }
  }
  return { strong, weak, pairsCompared };
}

/** 30 overdue, 25 within a day, 18 two days, 12 three days, 6 a week, else 0. */
export function dueScore(due: string | null, nowMs: number): number {
  if (due === null) return 0;
  const t = Date.parse(due);
  if (!Number.isFinite(t)) return 0;
  const h = (t - nowMs) / HOUR;
  if (h < 0) return 30;
  if (h <= 24) return 25;
  if (h <= 48) return 18;
  if (h <= 72) return 12;
  if (h <= 168) return 6;
  return 0;
}

/** 8 per strong link, 2 per weak link, at most 20. */
export function correlationScore(strong: number, weak: number): number {
  return Math.min(20, strong * 8 + weak * 2);
}

/** Score 0–100 = urgency (≤35) + due (≤30) + sender (≤15) + correlation (≤20). */
export function scoreTasks(tasks: readonly Task[], corr: Correlations, nowMs: number): ScoredTask[] {
  return tasks.map((t, i) => {
    const strong = corr.strong[i] ?? [];
    const weak = corr.weak[i] ?? [];
    const parts = {
      urgency: Math.max(0, Math.min(35, t.urgency)),
      due: dueScore(t.due, nowMs),
      sender: Math.max(0, Math.min(15, t.senderImportance)),
      correlation: correlationScore(strong.length, weak.length),
    };
    const linked = [...strong, ...weak].map((j) => (tasks[j] as Task).id).sort();
    return {
      ...t,
      score: Math.max(0, Math.min(100, parts.urgency + parts.due + parts.sender + parts.correlation)),
      scoreParts: parts,
      correlatedWith: linked,
    };
  });
}

/** Highest score first; ties by earlier due (undated last), then id — a total order, so stable. */
export function rankTasks(tasks: ScoredTask[], top = 20): ScoredTask[] {
  const dueKey = (t: ScoredTask) => (t.due === null ? Number.POSITIVE_INFINITY : Date.parse(t.due));
  return [...tasks].sort((a, b) => b.score - a.score || dueKey(a) - dueKey(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, top);
}

export interface Block {
  start: string;
  end: string;
}

/**
 * Free blocks of at least `minMinutes` on `date` between `fromHour` and `toHour` (UTC): the
 * working window minus the union of the day's meetings, as maximal intervals.
 */
export function freeBlocks(events: ReadonlyArray<{ start: { dateTime: string }; end: { dateTime: string } }>, date: string, fromHour = 9, toHour = 17, minMinutes = 30): Block[] {
  const day = Date.parse(`${date}T00:00:00.000Z`);
  const lo = day + fromHour * HOUR;
  const hi = day + toHour * HOUR;
  const busy = events
    .map((e) => [Math.max(lo, Date.parse(e.start.dateTime)), Math.min(hi, Date.parse(e.end.dateTime))] as const)
    .filter(([s, e]) => Number.isFinite(s) && Number.isFinite(e) && e > s)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Block[] = [];
  let cursor = lo;
  const push = (s: number, e: number) => {
    if (e - s >= minMinutes * 60_000) out.push({ start: iso(s), end: iso(e) });
  };
  for (const [s, e] of busy) {
    if (s > cursor) push(cursor, s);
    cursor = Math.max(cursor, e);
  }
  if (cursor < hi) push(cursor, hi);
  return out;
}

export interface BriefingInput {
  user: string;
  date: string;
  messages: GmailMessage[];
  events: CalendarEvent[];
  issues: JiraIssue[];
  github: GithubIssue[];
  files: DriveFile[];
}

export interface Briefing {
  date: string;
  user: string;
  tasks: ScoredTask[];
  freeBlocks: Block[];
  sources: Record<ConnectorName, number>;
  stats: { tasksScanned: number; pairsCompared: number; strongLinks: number; weakLinks: number };
}

/** The whole pipeline on already-fetched data; "now" is 08:00 UTC of the briefing date. */
export function buildBriefing(input: BriefingInput, top = 20): Briefing {
  const orgDomain = orgDomainOf(input.messages);
  const tasks: Task[] = [
    ...input.messages.map((m) => emailTask(m, orgDomain)),
    ...input.events.map((e) => meetingTask(e, input.date, orgDomain)),
    ...input.issues.map((i) => issueTask(i, orgDomain)),
    ...input.github.map((g) => githubTask(g, input.user)),
    ...input.files.map((f) => docTask(f, input.user, orgDomain)),
  ];
  const corr = correlate(tasks);
  const nowMs = Date.parse(`${input.date}T08:00:00.000Z`);
  const ranked = rankTasks(scoreTasks(tasks, corr, nowMs), top);
  const today = input.events.filter((e) => e.start.dateTime.slice(0, 10) === input.date);
  const half = (xs: number[][]) => xs.reduce((s, l) => s + l.length, 0) / 2;
  return {
    date: input.date,
    user: input.user,
    tasks: ranked.map((t) => ({ ...t, correlatedWith: t.correlatedWith.slice(0, 10) })),
    freeBlocks: freeBlocks(today, input.date),
    sources: { gmail: input.messages.length, calendar: input.events.length, jira: input.issues.length, github: input.github.length, gdrive: input.files.length },
    stats: { tasksScanned: tasks.length, pairsCompared: corr.pairsCompared, strongLinks: half(corr.strong), weakLinks: half(corr.weak) },
  };
}

// --- The tool -------------------------------------------------------------------------------

const DateArg = z.iso.date();
const enc = encodeURIComponent;

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The five reads of a briefing, in parallel; all are awaited so none is left running on failure. */
export async function fetchBriefingInput(ctx: GatewayContext, user: string, date: string): Promise<BriefingInput> {
  const c = ctx.connectors;
  const results = await Promise.allSettled([
    c.read('gmail', `/gmail/v1/users/${enc(user)}/messages?maxResults=100`, user),
    c.read('calendar', `/calendar/v3/calendars/${enc(user)}/events?timeMin=${date}T00:00:00Z&timeMax=${addDays(date, 7)}T00:00:00Z`, user),
    c.read('jira', `/jira/rest/api/3/search?assignee=${enc(user)}&jql=${enc(`assignee = "${user}" AND statusCategory != Done`)}&maxResults=100`, user),
    c.read('github', `/github/search/issues?q=${enc(`is:open involves:${user}`)}&per_page=100`, user),
    c.read('gdrive', `/drive/v3/files?owner=${enc(user)}&pageSize=100`, user),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw toToolError((failed as PromiseRejectedResult).reason);
  const [gm, cal, jira, gh, drive] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
  const parse = <T>(name: ConnectorName, schema: z.ZodType<T>, v: unknown): T => {
    const p = schema.safeParse(v);
    if (!p.success) throw toToolError(new Error(`${name}: unexpected upstream answer: ${p.error.issues[0]?.message ?? 'invalid'}`));
    return p.data;
  };
  return {
    user,
    date,
    messages: parse('gmail', GmailListSchema, gm).messages,
    events: parse('calendar', CalendarListSchema, cal).items,
    issues: parse('jira', JiraSearchSchema, jira).issues,
    github: parse('github', GithubSearchSchema, gh).items,
    files: parse('gdrive', DriveListSchema, drive).files,
  };
}

export const generateBriefingTool = defineTool({
  name: 'generate_briefing',
  domain: 'actions',
  schema: z.object({ user_id: UserIdArg, date: DateArg.optional() }),
  classification: 'confidential',
  targetSystem: 'briefing',
  additional: (a) => ({ connectors: ['gmail', 'calendar', 'jira', 'github', 'gdrive'], date: a.date ?? null }),
  async run(ctx, call, args) {
    const user = args.user_id ?? call.userId;
    const date = args.date ?? new Date().toISOString().slice(0, 10);
    const input = await fetchBriefingInput(ctx, user, date);
    const b = buildBriefing(input);
    const briefingId = crypto.randomUUID();
    const payload = { date: b.date, tasks: b.tasks, freeBlocks: b.freeBlocks, sources: b.sources, stats: b.stats, requestId: call.requestId };
    const end = ctx.metrics.dbQueryDuration.startTimer({ op: 'briefing_insert' });
    try {
      await ctx.db.query('INSERT INTO app.briefings (id, tenant_id, user_id, payload) VALUES ($1, $2, $3, $4)', [briefingId, call.tenantId, user, JSON.stringify(payload)]);
    } catch (err) {
      throw new ToolError(503, 'briefing_store_unavailable', `could not store the briefing: ${(err as Error).message}`);
    } finally {
      end();
    }
    return {
      result: { briefingId, date: b.date, tasks: b.tasks, freeBlocks: b.freeBlocks, sources: b.sources, stats: b.stats },
      dataAccessed: [`briefing:${briefingId}`, ...Object.entries(b.sources).map(([k, v]) => `${k}:${v}`)],
      detail: { briefing_id: briefingId, sources: b.sources, tasks: b.tasks.length },
    };
  },
});
