import crypto from 'node:crypto';

// Deterministic, seeded per-user data in the providers' own wire shapes. Same (seed, user, anchor
// date) ⇒ byte-identical answers, so briefings computed from it are reproducible. Items share
// project keys (PAY-412), repository references (payments#73) and topic words across providers,
// which is what the gateway's correlator looks for.

export const DOMAIN = 'acme.example';

/** mulberry32 seeded from a string (sha256), good enough for test data and fast. */
export function rngFor(...parts: string[]): () => number {
  let a = crypto.createHash('sha256').update(parts.join('\u0000')).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
function pick<T>(r: Rng, xs: readonly T[]): T {
  const v = xs[Math.floor(r() * xs.length)];
  if (v === undefined) throw new Error('pick from empty list');
  return v;
}
const chance = (r: Rng, p: number): boolean => r() < p;

const PROJECTS = [
  { key: 'PAY', repo: 'payments', topic: 'payments migration', words: ['ledger', 'refund', 'settlement'] },
  { key: 'WEB', repo: 'webapp', topic: 'checkout redesign', words: ['checkout', 'frontend', 'accessibility'] },
  { key: 'INFRA', repo: 'infra', topic: 'kubernetes upgrade', words: ['cluster', 'terraform', 'ingress'] },
  { key: 'DATA', repo: 'pipelines', topic: 'warehouse backfill', words: ['warehouse', 'backfill', 'schema'] },
  { key: 'MOB', repo: 'mobile', topic: 'ios release', words: ['release', 'crash', 'testflight'] },
  { key: 'SEC', repo: 'security', topic: 'access review', words: ['access', 'audit', 'secrets'] },
  { key: 'API', repo: 'api-gateway', topic: 'rate limiting', words: ['throttling', 'quota', 'latency'] },
  { key: 'OPS', repo: 'runbooks', topic: 'incident followups', words: ['incident', 'postmortem', 'oncall'] },
  { key: 'ML', repo: 'ranking', topic: 'ranking model', words: ['model', 'training', 'evaluation'] },
  { key: 'AUTH', repo: 'identity', topic: 'sso rollout', words: ['saml', 'login', 'tokens'] },
  { key: 'BILL', repo: 'billing', topic: 'invoice accuracy', words: ['invoice', 'pricing', 'tax'] },
  { key: 'SRCH', repo: 'search', topic: 'search relevance', words: ['index', 'relevance', 'query'] },
] as const;
type Project = (typeof PROJECTS)[number];

const FIRST = ['dana', 'lee', 'maria', 'omar', 'priya', 'jonas', 'mei', 'sam', 'elena', 'kofi', 'ana', 'tom', 'yuki', 'raj', 'ines', 'noah'];
const LAST = ['wu', 'garcia', 'okafor', 'schmidt', 'patel', 'kim', 'rossi', 'nguyen', 'silva', 'berg', 'cohen', 'ito'];
const VIPS = [
  { email: `ceo@${DOMAIN}`, name: 'Alex Morgan (CEO)' },
  { email: `cto@${DOMAIN}`, name: 'Rita Chen (CTO)' },
  { email: `vp-engineering@${DOMAIN}`, name: 'Paul Herrera (VP Engineering)' },
  { email: `director-platform@${DOMAIN}`, name: 'Sofia Lind (Director, Platform)' },
];
const EXTERNAL = ['globex.example', 'initech.example', 'umbrella.example', 'vendor-cloud.example'];
const STATUSES = ['To Do', 'In Progress', 'In Review', 'Blocked', 'To Do', 'In Progress'] as const;
const PRIORITIES = ['Highest', 'High', 'Medium', 'Medium', 'Low', 'Lowest'] as const;
const ISSUE_VERBS = ['Fix', 'Investigate', 'Implement', 'Document', 'Migrate', 'Refactor', 'Add metrics for', 'Remove'];
const MEETING_KINDS = ['standup', 'sync', '1:1', 'planning', 'design review', 'retro', 'customer call', 'interview'];

export interface Person {
  email: string;
  name: string;
}

function colleague(r: Rng): Person {
  const f = pick(r, FIRST);
  const l = pick(r, LAST);
  return { email: `${f}.${l}@${DOMAIN}`, name: `${f[0]?.toUpperCase()}${f.slice(1)} ${l[0]?.toUpperCase()}${l.slice(1)}` };
}

function login(p: Person): string {
  return p.email.split('@')[0]?.replace('.', '-') ?? 'someone';
}

const DAY_MS = 86_400_000;
export function dayStartMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
export function todayUtc(): string {
  return isoDate(Date.now());
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (subset of the real providers' fields, same names)

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  payload: { mimeType: string; headers: Array<{ name: string; value: string }> };
}
export interface CalendarEvent {
  id: string;
  status: 'confirmed';
  summary: string;
  description: string;
  htmlLink: string;
  start: { dateTime: string };
  end: { dateTime: string };
  organizer: { email: string; displayName: string };
  attendees: Array<{ email: string; responseStatus: string }>;
}
export interface JiraIssue {
  id: string;
  key: string;
  self: string;
  fields: {
    summary: string;
    description: string;
    status: { name: string; statusCategory: { key: string } };
    priority: { name: string };
    duedate: string | null;
    created: string;
    updated: string;
    labels: string[];
    assignee: { accountId: string; displayName: string };
    reporter: { displayName: string; emailAddress: string };
  };
}
export interface GithubItem {
  id: number;
  number: number;
  repo: string;
  isPr: boolean;
  title: string;
  body: string;
  author: string;
  reviewers: string[];
  assignees: string[];
  labels: string[];
  draft: boolean;
  created_at: string;
  updated_at: string;
  branch: string;
}
export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  description: string;
  createdTime: string;
  modifiedTime: string;
  webViewLink: string;
  owners: Array<{ emailAddress: string; displayName: string }>;
  lastModifyingUser: { emailAddress: string; displayName: string };
}

export interface UserData {
  user: string;
  email: string;
  anchorDate: string;
  projects: Project[];
  messages: GmailMessage[];
  issues: JiraIssue[];
  github: GithubItem[];
  files: DriveFile[];
}

export const ORG = 'acme';

function userProjects(seed: string, user: string): Project[] {
  const r = rngFor(seed, user, 'projects');
  const pool = [...PROJECTS];
  const out: Project[] = [];
  const n = int(r, 3, 5);
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(r() * pool.length), 1)[0] as Project);
  return out;
}

/** Everything except calendar events (which are generated per day) for one user. */
export function generateUserData(seed: string, user: string, anchorDate: string): UserData {
  const projects = userProjects(seed, user);
  const email = `${user}@${DOMAIN}`;
  const t0 = dayStartMs(anchorDate);
  const me: Person = { email, name: user };

  // Jira first: other providers reference its keys.
  const ri = rngFor(seed, user, anchorDate, 'jira');
  const nIssues = int(ri, 20, 60);
  const usedKeys = new Set<string>();
  const issues: JiraIssue[] = [];
  for (let i = 0; i < nIssues; i++) {
    const p = pick(ri, projects);
    let key: string;
    do key = `${p.key}-${int(ri, 100, 999)}`;
    while (usedKeys.has(key));
    usedKeys.add(key);
    const status = pick(ri, STATUSES);
    const reporter = chance(ri, 0.15) ? pick(ri, VIPS) : colleague(ri);
    const created = t0 - int(ri, 1, 40) * DAY_MS + int(ri, 0, 86_399) * 1000;
    issues.push({
      id: String(10_000 + i),
      key,
      self: `https://jira.${DOMAIN}/rest/api/3/issue/${key}`,
      fields: {
        summary: `${pick(ri, ISSUE_VERBS)} ${pick(ri, p.words)} for ${p.topic}`,
        description: `Part of the ${p.topic} work in ${ORG}/${p.repo}. ${pick(ri, p.words)} needs attention.`,
        status: { name: status, statusCategory: { key: status === 'To Do' ? 'new' : 'indeterminate' } },
        priority: { name: pick(ri, PRIORITIES) },
        duedate: chance(ri, 0.7) ? isoDate(t0 + int(ri, -3, 14) * DAY_MS) : null,
        created: new Date(created).toISOString(),
        updated: new Date(Math.min(t0, created + int(ri, 0, 10) * DAY_MS)).toISOString(),
        labels: chance(ri, 0.3) ? [pick(ri, ['customer', 'regression', 'tech-debt', 'security'])] : [],
        assignee: { accountId: `acc-${user}`, displayName: user },
        reporter: { displayName: reporter.name, emailAddress: reporter.email },
      },
    });
  }
  const keysOf = (p: Project) => issues.filter((x) => x.key.startsWith(`${p.key}-`)).map((x) => x.key);

  const rg = rngFor(seed, user, anchorDate, 'github');
  const nGh = int(rg, 20, 60);
  const github: GithubItem[] = [];
  const nextNumber = new Map<string, number>();
  for (let i = 0; i < nGh; i++) {
    const p = pick(rg, projects);
    const n = (nextNumber.get(p.repo) ?? int(rg, 20, 400)) + int(rg, 1, 5);
    nextNumber.set(p.repo, n);
    const isPr = chance(rg, 0.7);
    const keys = keysOf(p);
    const key = keys.length > 0 && chance(rg, 0.55) ? pick(rg, keys) : undefined;
    const other = colleague(rg);
    const mine = chance(rg, 0.25);
    const word = pick(rg, p.words);
    const created = t0 - int(rg, 0, 12) * DAY_MS - int(rg, 0, 86_399) * 1000;
    github.push({
      id: 900_000 + i,
      number: n,
      repo: p.repo,
      isPr,
      title: `${key !== undefined ? `${key}: ` : ''}${isPr ? pick(rg, ['Fix', 'Add', 'Refactor', 'Bump']) : 'Bug:'} ${word} in ${p.topic}`,
      body: `${key !== undefined ? `Closes ${key}. ` : ''}Touches ${word} handling.`,
      author: mine ? user : login(other),
      reviewers: isPr ? (mine ? [login(colleague(rg))] : chance(rg, 0.8) ? [user] : [login(colleague(rg))]) : [],
      assignees: isPr ? [] : [chance(rg, 0.7) ? user : login(other)],
      labels: chance(rg, 0.25) ? [pick(rg, ['urgent', 'hotfix', 'needs-tests', 'dependencies'])] : [],
      draft: isPr && chance(rg, 0.1),
      created_at: new Date(created).toISOString(),
      updated_at: new Date(Math.min(t0, created + int(rg, 0, 3) * DAY_MS)).toISOString(),
      branch: `${key !== undefined ? key.toLowerCase() : word}-${n}`,
    });
  }

  const rm = rngFor(seed, user, anchorDate, 'gmail');
  const nMsg = int(rm, 20, 60);
  const messages: GmailMessage[] = [];
  for (let i = 0; i < nMsg; i++) {
    const p = pick(rm, projects);
    const keys = keysOf(p);
    const from: Person = chance(rm, 0.12)
      ? pick(rm, VIPS)
      : chance(rm, 0.2)
        ? { email: `${pick(rm, FIRST)}@${pick(rm, EXTERNAL)}`, name: 'External contact' }
        : colleague(rm);
    const prs = github.filter((g) => g.isPr && g.repo === p.repo);
    const ref = chance(rm, 0.45) && keys.length > 0 ? pick(rm, keys) : chance(rm, 0.2) && prs.length > 0 ? `${p.repo}#${pick(rm, prs).number}` : undefined;
    const word = pick(rm, p.words);
    const subject = `${chance(rm, 0.4) ? 'Re: ' : ''}${ref !== undefined ? `${ref} ` : ''}${pick(rm, ['Question about', 'Update on', 'Need your input on', 'Blocker:', 'FYI', 'Review'])} ${word} (${p.topic})`;
    const needsReply = chance(rm, 0.35);
    const labels = ['INBOX'];
    if (chance(rm, 0.5)) labels.push('UNREAD');
    if (chance(rm, 0.2) || VIPS.some((v) => v.email === from.email)) labels.push('IMPORTANT');
    if (needsReply) labels.push('Label_needs-reply');
    const ts = t0 - int(rm, 0, 5 * 24 * 60) * 60_000 + 8 * 3_600_000;
    const id = `18${crypto.createHash('sha1').update(`${seed}:${user}:${anchorDate}:m${i}`).digest('hex').slice(0, 14)}`;
    messages.push({
      id,
      threadId: id,
      labelIds: labels,
      snippet: `${needsReply ? 'Could you get back to me on this? ' : ''}The ${word} part of ${p.topic} ${pick(rm, ['is slipping', 'looks good', 'needs a decision', 'changed again'])}.`,
      internalDate: String(Math.min(ts, t0 + 8 * 3_600_000)),
      payload: {
        mimeType: 'text/plain',
        headers: [
          { name: 'From', value: `${from.name} <${from.email}>` },
          { name: 'To', value: `${me.name} <${me.email}>` },
          { name: 'Subject', value: subject },
          { name: 'Date', value: new Date(Math.min(ts, t0 + 8 * 3_600_000)).toUTCString() },
        ],
      },
    });
  }
  messages.sort((a, b) => Number(b.internalDate) - Number(a.internalDate) || a.id.localeCompare(b.id));

  const rd = rngFor(seed, user, anchorDate, 'drive');
  const nFiles = int(rd, 20, 60);
  const files: DriveFile[] = [];
  for (let i = 0; i < nFiles; i++) {
    const p = pick(rd, projects);
    const keys = keysOf(p);
    const key = keys.length > 0 && chance(rd, 0.35) ? pick(rd, keys) : undefined;
    const owner = chance(rd, 0.4) ? me : colleague(rd);
    const kind = pick(rd, ['design doc', 'RFC', 'meeting notes', 'runbook', 'planning', 'postmortem']);
    const reviewAsked = chance(rd, 0.3);
    const modified = t0 - int(rd, 0, 20) * DAY_MS + int(rd, 0, 86_399) * 1000;
    files.push({
      id: `1${crypto.createHash('sha1').update(`${seed}:${user}:${anchorDate}:f${i}`).digest('base64url').slice(0, 24)}`,
      name: `${key !== undefined ? `${key} ` : ''}${p.topic} ${kind}`,
      mimeType: kind === 'planning' ? 'application/vnd.google-apps.spreadsheet' : 'application/vnd.google-apps.document',
      description: reviewAsked ? `Review requested from ${user}: ${pick(rd, p.words)} section` : `${kind} for ${p.topic}`,
      createdTime: new Date(modified - int(rd, 0, 30) * DAY_MS).toISOString(),
      modifiedTime: new Date(Math.min(modified, t0 + 8 * 3_600_000)).toISOString(),
      webViewLink: `https://docs.${DOMAIN}/d/${i}`,
      owners: [{ emailAddress: owner.email, displayName: owner.name }],
      lastModifyingUser: { emailAddress: owner.email, displayName: owner.name },
    });
  }

  return { user, email, anchorDate, projects, messages, issues, github, files };
}

/**
 * Meetings of one user on one day: 4–8 between 08:00 and 18:00 UTC on a 30-minute grid, some
 * overlapping, some named after a Jira key or a pull request so the correlator can link them.
 */
export function eventsForDay(seed: string, data: UserData, date: string): CalendarEvent[] {
  const r = rngFor(seed, data.user, date, 'calendar');
  const t0 = dayStartMs(date);
  const n = int(r, 4, 8);
  const events: CalendarEvent[] = [];
  for (let i = 0; i < n; i++) {
    const startSlot = int(r, 16, 34); // 08:00 … 17:00 in half hours
    const len = Math.min(pick(r, [1, 1, 2, 2, 3]), 36 - startSlot); // never past 18:00
    const p = pick(r, data.projects);
    const keys = data.issues.filter((x) => x.key.startsWith(`${p.key}-`)).map((x) => x.key);
    const prs = data.github.filter((g) => g.isPr && g.repo === p.repo && g.reviewers.includes(data.user));
    const kind = pick(r, MEETING_KINDS);
    let summary = `${p.topic} ${kind}`;
    if (kind === 'design review' && prs.length > 0) summary = `Review ${p.repo}#${pick(r, prs).number} (${p.topic})`;
    else if (keys.length > 0 && chance(r, 0.3)) summary = `${pick(r, keys)} ${kind}`;
    const organizer = chance(r, 0.1) ? pick(r, VIPS) : colleague(r);
    const attendees = [data.email, organizer.email];
    for (let k = int(r, 0, 4); k > 0; k--) attendees.push(colleague(r).email);
    events.push({
      id: `ev${crypto.createHash('sha1').update(`${seed}:${data.user}:${date}:e${i}`).digest('hex').slice(0, 16)}`,
      status: 'confirmed',
      summary,
      description: `${kind} about ${pick(r, p.words)}`,
      htmlLink: `https://calendar.${DOMAIN}/event/${date}/${i}`,
      start: { dateTime: new Date(t0 + startSlot * 1_800_000).toISOString() },
      end: { dateTime: new Date(t0 + (startSlot + len) * 1_800_000).toISOString() },
      organizer: { email: organizer.email, displayName: organizer.name },
      attendees: [...new Set(attendees)].map((email) => ({ email, responseStatus: email === data.email ? 'accepted' : 'needsAction' })),
    });
  }
  events.sort((a, b) => a.start.dateTime.localeCompare(b.start.dateTime) || a.id.localeCompare(b.id));
  return events;
}

/** Small LRU so a burst of reads for the same user does not regenerate the data each time. */
export class UserDataCache {
  private readonly map = new Map<string, UserData>();
  private readonly max: number;
  private readonly seed: string;
  constructor(seed: string, max = 2_000) {
    this.seed = seed;
    this.max = max;
  }
  get(user: string, anchorDate: string): UserData {
    const k = `${user}\u0000${anchorDate}`;
    const hit = this.map.get(k);
    if (hit !== undefined) {
      this.map.delete(k);
      this.map.set(k, hit);
      return hit;
    }
    const d = generateUserData(this.seed, user, anchorDate);
    this.map.set(k, d);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return d;
  }
}

export function githubPull(g: GithubItem) {
  return {
    id: g.id,
    number: g.number,
    state: 'open',
    title: g.title,
    body: g.body,
    draft: g.draft,
    html_url: `https://github.com/${ORG}/${g.repo}/pull/${g.number}`,
    user: { login: g.author },
    requested_reviewers: g.reviewers.map((login) => ({ login })),
    labels: g.labels.map((name) => ({ name })),
    created_at: g.created_at,
    updated_at: g.updated_at,
    head: { ref: g.branch },
    base: { ref: 'main', repo: { full_name: `${ORG}/${g.repo}`, name: g.repo } },
  };
}

export function githubIssue(g: GithubItem) {
  return {
    id: g.id,
    number: g.number,
    state: 'open',
    title: g.title,
    body: g.body,
    html_url: `https://github.com/${ORG}/${g.repo}/${g.isPr ? 'pull' : 'issues'}/${g.number}`,
    repository_url: `https://api.github.com/repos/${ORG}/${g.repo}`,
    user: { login: g.author },
    assignees: g.assignees.map((login) => ({ login })),
    labels: g.labels.map((name) => ({ name })),
    created_at: g.created_at,
    updated_at: g.updated_at,
    ...(g.isPr ? { pull_request: { url: `https://api.github.com/repos/${ORG}/${g.repo}/pulls/${g.number}` }, draft: g.draft, requested_reviewers: g.reviewers.map((login) => ({ login })) } : {}),
  };
}
