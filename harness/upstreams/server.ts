import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import client from 'prom-client';
import { processRegistry } from '../common/metrics.ts';
import { z } from 'zod';
import {
  applyPatch,
  DEFAULT_TUNABLES,
  PROVIDERS,
  TunablesPatchSchema,
  type Provider,
  type Tunables,
  type UpstreamsConfig,
} from './config.ts';
import {
  dayStartMs,
  eventsForDay,
  githubIssue,
  githubPull,
  isoDate,
  ORG,
  todayUtc,
  UserDataCache,
  type CalendarEvent,
  type GithubItem,
  type UserData,
} from './data.ts';
import { RateLimiter } from './ratelimit.ts';
import { USER_ID_RE } from '../../contract/ids.ts';

export interface ProviderStats {
  requests: number;
  rateLimited: number;
  errors: number;
  byStatus: Record<string, number>;
}

export interface UpstreamsState {
  tunables: Tunables;
  limiter: RateLimiter;
  stats: Record<Provider, ProviderStats>;
  startedAt: number;
}

function emptyStats(): Record<Provider, ProviderStats> {
  const s = {} as Record<Provider, ProviderStats>;
  for (const p of PROVIDERS) s[p] = { requests: 0, rateLimited: 0, errors: 0, byStatus: {} };
  return s;
}

const DAY_MS = 86_400_000;

/** The provider user a request acts for: path user (or `me`), else the OAuth bearer `user:<id>`. */
function tokenUser(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+user:(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

const QueryNum = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export function buildUpstreams(config: UpstreamsConfig, opts: { now?: () => number } = {}): { app: FastifyInstance; state: UpstreamsState } {
  const now = opts.now ?? Date.now;
  const tunables = applyPatch(DEFAULT_TUNABLES, config);
  const state: UpstreamsState = { tunables, limiter: new RateLimiter(tunables, now), stats: emptyStats(), startedAt: now() };
  const cache = new UserDataCache(config.seed);
  const anchor = (): string => config.anchorDate ?? todayUtc();

  const registry = processRegistry();
  const requestsTotal = new client.Counter({
    name: 'upstream_requests_total',
    help: 'Provider API requests answered, by provider and HTTP status.',
    labelNames: ['provider', 'status'] as const,
    registers: [registry],
  });
  const rateLimitedTotal = new client.Counter({
    name: 'upstream_rate_limited_total',
    help: 'Requests refused with 429, by provider and the bucket that refused (user, app, global).',
    labelNames: ['provider', 'scope'] as const,
    registers: [registry],
  });

  const app = Fastify({ logger: false, bodyLimit: 262_144 });

  const count = (p: Provider, status: number) => {
    const s = state.stats[p];
    s.requests++;
    s.byStatus[String(status)] = (s.byStatus[String(status)] ?? 0) + 1;
    if (status === 429) s.rateLimited++;
    if (status >= 500) s.errors++;
    requestsTotal.inc({ provider: p, status: String(status) });
  };

  /**
   * Gate of every provider read: 401 without a user, 503 at the configured error rate, 429 when a
   * bucket is empty (answered at once), otherwise the configured latency; then the handler runs.
   */
  async function admit(p: Provider, req: FastifyRequest, reply: FastifyReply, pathUser?: string): Promise<string | undefined> {
    const user = pathUser !== undefined && pathUser !== 'me' ? pathUser : tokenUser(req);
    if (user === undefined || !USER_ID_RE.test(user)) {
      count(p, 401);
      await reply.code(401).send({ error: { code: 401, message: 'Request had invalid authentication credentials.' } });
      return undefined;
    }
    const t = state.tunables;
    if (t.errorRate > 0 && Math.random() < t.errorRate) {
      count(p, 503);
      await reply.code(503).send({ error: { code: 503, message: 'Backend Error' } });
      return undefined;
    }
    const a = state.limiter.admit(p, user);
    if (!a.ok) {
      count(p, 429);
      rateLimitedTotal.inc({ provider: p, scope: a.scope });
      await reply
        .code(429)
        .header('Retry-After', String(a.retryAfterS))
        .header('X-RateLimit-Scope', a.scope)
        .header('X-RateLimit-Remaining', '0')
        .send({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: `${p} rate limit exceeded (${a.scope}); retry after ${a.retryAfterS} s` } });
      return undefined;
    }
    const delay = t.latencyMs.base + Math.random() * t.latencyMs.jitter;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return user;
  }

  const ok = async (p: Provider, reply: FastifyReply, body: unknown) => {
    count(p, 200);
    await reply.send(body);
  };
  const notFound = async (p: Provider, reply: FastifyReply, what: string) => {
    count(p, 404);
    await reply.code(404).send({ error: { code: 404, message: `${what} not found` } });
  };
  const data = (user: string): UserData => cache.get(user, anchor());

  // --- Gmail ------------------------------------------------------------------------------
  const GmailList = z.object({ q: z.string().max(500).optional(), maxResults: QueryNum(100, 500) });
  app.get<{ Params: { user: string } }>('/gmail/v1/users/:user/messages', async (req, reply) => {
    const q = GmailList.safeParse(req.query);
    if (!q.success) return badRequest('gmail', reply, q.error);
    const user = await admit('gmail', req, reply, req.params.user);
    if (user === undefined) return;
    const msgs = data(user).messages.filter(gmailMatcher(q.data.q ?? ''));
    // Real messages.list returns ids only; here format=metadata is inlined so one read is one call.
    await ok('gmail', reply, { messages: msgs.slice(0, q.data.maxResults), resultSizeEstimate: msgs.length });
  });
  app.get<{ Params: { user: string; id: string } }>('/gmail/v1/users/:user/messages/:id', async (req, reply) => {
    const user = await admit('gmail', req, reply, req.params.user);
    if (user === undefined) return;
    const m = data(user).messages.find((x) => x.id === req.params.id);
    if (m === undefined) return notFound('gmail', reply, `message ${req.params.id}`);
    await ok('gmail', reply, { ...m, body: { data: Buffer.from(`${m.snippet}\n\n-- \nSent from the ClawStorm test bed`).toString('base64url') } });
  });

  // --- Calendar ---------------------------------------------------------------------------
  const CalList = z.object({
    timeMin: z.iso.datetime({ offset: true }).optional(),
    timeMax: z.iso.datetime({ offset: true }).optional(),
    q: z.string().max(500).optional(),
    maxResults: QueryNum(250, 2_500),
  });
  app.get<{ Params: { user: string } }>('/calendar/v3/calendars/:user/events', async (req, reply) => {
    const q = CalList.safeParse(req.query);
    if (!q.success) return badRequest('calendar', reply, q.error);
    const user = await admit('calendar', req, reply, req.params.user === 'primary' ? 'me' : req.params.user);
    if (user === undefined) return;
    const a = dayStartMs(anchor());
    const from = q.data.timeMin !== undefined ? Date.parse(q.data.timeMin) : a;
    const to = Math.min(q.data.timeMax !== undefined ? Date.parse(q.data.timeMax) : a + 7 * DAY_MS, from + 31 * DAY_MS);
    const d = data(user);
    const items: CalendarEvent[] = [];
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
      for (const e of eventsForDay(config.seed, d, isoDate(day))) {
        if (Date.parse(e.end.dateTime) > from && Date.parse(e.start.dateTime) < to) items.push(e);
      }
    }
    const words = terms(q.data.q ?? '');
    const hits = items.filter((e) => words.every((w) => `${e.summary} ${e.description}`.toLowerCase().includes(w)));
    await ok('calendar', reply, { kind: 'calendar#events', summary: `${user}@calendar`, timeZone: 'UTC', items: hits.slice(0, q.data.maxResults) });
  });

  // --- Jira -------------------------------------------------------------------------------
  const JiraSearch = z.object({ assignee: z.string().optional(), jql: z.string().max(2_000).optional(), maxResults: QueryNum(100, 1_000), startAt: z.coerce.number().int().min(0).default(0) });
  app.get('/jira/rest/api/3/search', async (req, reply) => {
    const q = JiraSearch.safeParse(req.query);
    if (!q.success) return badRequest('jira', reply, q.error);
    const user = await admit('jira', req, reply, q.data.assignee);
    if (user === undefined) return;
    const issues = data(user).issues.filter(jqlMatcher(q.data.jql ?? ''));
    await ok('jira', reply, { startAt: q.data.startAt, maxResults: q.data.maxResults, total: issues.length, issues: issues.slice(q.data.startAt, q.data.startAt + q.data.maxResults) });
  });
  app.get<{ Params: { key: string }; Querystring: { assignee?: string } }>('/jira/rest/api/3/issue/:key', async (req, reply) => {
    const user = await admit('jira', req, reply, typeof req.query.assignee === 'string' ? req.query.assignee : undefined);
    if (user === undefined) return;
    const issue = data(user).issues.find((x) => x.key === req.params.key);
    if (issue === undefined) return notFound('jira', reply, `issue ${req.params.key}`);
    await ok('jira', reply, issue);
  });

  // --- GitHub -----------------------------------------------------------------------------
  const GhList = z.object({ reviewer: z.string().optional(), assignee: z.string().optional(), per_page: QueryNum(100, 100) });
  const repoItems = (user: string, org: string, repo: string): GithubItem[] | undefined =>
    org === ORG ? data(user).github.filter((g) => g.repo === repo) : undefined;
  app.get<{ Params: { org: string; repo: string } }>('/github/repos/:org/:repo/pulls', async (req, reply) => {
    const q = GhList.safeParse(req.query);
    if (!q.success) return badRequest('github', reply, q.error);
    const user = await admit('github', req, reply, q.data.reviewer);
    if (user === undefined) return;
    const items = repoItems(user, req.params.org, req.params.repo);
    if (items === undefined) return notFound('github', reply, `repository ${req.params.org}/${req.params.repo}`);
    const prs = items.filter((g) => g.isPr && (q.data.reviewer === undefined || g.reviewers.includes(q.data.reviewer)));
    await ok('github', reply, prs.slice(0, q.data.per_page).map(githubPull));
  });
  app.get<{ Params: { org: string; repo: string } }>('/github/repos/:org/:repo/issues', async (req, reply) => {
    const q = GhList.safeParse(req.query);
    if (!q.success) return badRequest('github', reply, q.error);
    const user = await admit('github', req, reply, q.data.assignee);
    if (user === undefined) return;
    const items = repoItems(user, req.params.org, req.params.repo);
    if (items === undefined) return notFound('github', reply, `repository ${req.params.org}/${req.params.repo}`);
    const list = items.filter((g) => q.data.assignee === undefined || g.assignees.includes(q.data.assignee));
    await ok('github', reply, list.slice(0, q.data.per_page).map(githubIssue));
  });
  for (const kind of ['pulls', 'issues'] as const) {
    app.get<{ Params: { org: string; repo: string; number: string } }>(`/github/repos/:org/:repo/${kind}/:number`, async (req, reply) => {
      const user = await admit('github', req, reply);
      if (user === undefined) return;
      const n = Number(req.params.number);
      const g = repoItems(user, req.params.org, req.params.repo)?.find((x) => x.number === n && (kind === 'issues' || x.isPr));
      if (g === undefined) return notFound('github', reply, `${req.params.org}/${req.params.repo}#${req.params.number}`);
      await ok('github', reply, kind === 'pulls' ? githubPull(g) : githubIssue(g));
    });
  }
  const GhSearch = z.object({ q: z.string().max(1_000).default(''), per_page: QueryNum(100, 100) });
  app.get('/github/search/issues', async (req, reply) => {
    const q = GhSearch.safeParse(req.query);
    if (!q.success) return badRequest('github', reply, q.error);
    const named = /(?:involves|review-requested|assignee|author):(\S+)/.exec(q.data.q)?.[1];
    const user = await admit('github', req, reply, named);
    if (user === undefined) return;
    const items = data(user).github.filter(githubMatcher(q.data.q, user));
    await ok('github', reply, { total_count: items.length, incomplete_results: false, items: items.slice(0, q.data.per_page).map(githubIssue) });
  });

  // --- Drive ------------------------------------------------------------------------------
  const DriveList = z.object({ owner: z.string().optional(), q: z.string().max(1_000).optional(), pageSize: QueryNum(100, 1_000) });
  app.get('/drive/v3/files', async (req, reply) => {
    const q = DriveList.safeParse(req.query);
    if (!q.success) return badRequest('gdrive', reply, q.error);
    const user = await admit('gdrive', req, reply, q.data.owner);
    if (user === undefined) return;
    const words = driveTerms(q.data.q ?? '');
    const files = data(user).files.filter((f) => words.every((w) => `${f.name} ${f.description}`.toLowerCase().includes(w)));
    await ok('gdrive', reply, { kind: 'drive#fileList', incompleteSearch: false, files: files.slice(0, q.data.pageSize) });
  });
  app.get<{ Params: { id: string }; Querystring: { owner?: string } }>('/drive/v3/files/:id', async (req, reply) => {
    const user = await admit('gdrive', req, reply, typeof req.query.owner === 'string' ? req.query.owner : undefined);
    if (user === undefined) return;
    const f = data(user).files.find((x) => x.id === req.params.id);
    if (f === undefined) return notFound('gdrive', reply, `file ${req.params.id}`);
    await ok('gdrive', reply, f);
  });

  async function badRequest(p: Provider, reply: FastifyReply, err: z.ZodError): Promise<void> {
    count(p, 400);
    await reply.code(400).send({ error: { code: 400, message: err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
  }

  // --- Control ----------------------------------------------------------------------------
  const adminOk = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (config.adminToken === undefined) return true;
    const given = crypto.createHash('sha256').update(req.headers.authorization ?? '').digest();
    const want = crypto.createHash('sha256').update(`Bearer ${config.adminToken}`).digest();
    if (crypto.timingSafeEqual(given, want)) return true;
    await reply.code(401).send({ error: 'UNAUTHORIZED', message: 'admin bearer token required' });
    return false;
  };
  app.get('/admin/config', async (req, reply) => {
    if (!(await adminOk(req, reply))) return;
    await reply.send(state.tunables);
  });
  app.put('/admin/config', async (req, reply) => {
    if (!(await adminOk(req, reply))) return;
    const patch = TunablesPatchSchema.safeParse(req.body ?? {});
    if (!patch.success) {
      await reply.code(400).send({ error: 'BAD_REQUEST', message: patch.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return;
    }
    state.tunables = applyPatch(state.tunables, patch.data);
    state.limiter.reset(state.tunables);
    await reply.send(state.tunables);
  });
  app.get('/admin/stats', async (req, reply) => {
    if (!(await adminOk(req, reply))) return;
    const totals = { requests: 0, rateLimited: 0, errors: 0 };
    for (const p of PROVIDERS) {
      totals.requests += state.stats[p].requests;
      totals.rateLimited += state.stats[p].rateLimited;
      totals.errors += state.stats[p].errors;
    }
    await reply.send({ uptimeS: Math.round((now() - state.startedAt) / 1000), providers: state.stats, totals });
  });
  app.delete('/admin/stats', async (req, reply) => {
    if (!(await adminOk(req, reply))) return;
    state.stats = emptyStats();
    await reply.code(204).send();
  });
  app.get('/healthz', async (_req, reply) => {
    await reply.send({ ok: true, providers: PROVIDERS });
  });
  app.get('/metrics', async (_req, reply) => {
    await reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
  return { app, state };
}

// --- Query languages (the subsets the gateway's tools use) ------------------------------------

function terms(q: string): string[] {
  return q
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^"|"$/g, ''))
    .filter((w) => w.length > 0);
}

type GmailMsg = UserData['messages'][number];
function header(m: GmailMsg, name: string): string {
  return m.payload.headers.find((h) => h.name === name)?.value ?? '';
}

/** Gmail search: is:unread|important, label:x, from:x, subject:x, free words (AND). */
export function gmailMatcher(q: string): (m: GmailMsg) => boolean {
  const preds: Array<(m: GmailMsg) => boolean> = [];
  for (const t of terms(q)) {
    const [op, arg] = t.includes(':') ? [t.slice(0, t.indexOf(':')), t.slice(t.indexOf(':') + 1)] : ['', t];
    if (op === 'is' && arg === 'unread') preds.push((m) => m.labelIds.includes('UNREAD'));
    else if (op === 'is' && arg === 'important') preds.push((m) => m.labelIds.includes('IMPORTANT'));
    else if (op === 'label') preds.push((m) => m.labelIds.some((l) => l.toLowerCase() === arg || l.toLowerCase() === `label_${arg}`));
    else if (op === 'from') preds.push((m) => header(m, 'From').toLowerCase().includes(arg));
    else if (op === 'subject') preds.push((m) => header(m, 'Subject').toLowerCase().includes(arg));
    else if (op === 'in' || op === 'newer_than' || op === 'older_than') continue;
    else preds.push((m) => `${header(m, 'Subject')} ${m.snippet} ${header(m, 'From')}`.toLowerCase().includes(t));
  }
  return (m) => preds.every((p) => p(m));
}

type Issue = UserData['issues'][number];
/** JQL subset: clauses joined by AND — key, project, status (=, !=), priority, assignee, text/summary ~. */
export function jqlMatcher(jql: string): (i: Issue) => boolean {
  const preds: Array<(i: Issue) => boolean> = [];
  const body = jql.replace(/\s+ORDER\s+BY\s+.*$/i, '').trim();
  if (body.length === 0) return () => true;
  for (const clause of body.split(/\s+AND\s+/i)) {
    const m = /^\s*(\w+)\s*(!=|=|~)\s*"?([^"]*?)"?\s*$/.exec(clause);
    if (m === null) continue;
    const [, field = '', op = '', raw = ''] = m;
    const v = raw.toLowerCase();
    const f = field.toLowerCase();
    const neg = op === '!=';
    const test = (x: string) => (neg ? x.toLowerCase() !== v : x.toLowerCase() === v);
    if (f === 'key' || f === 'issuekey') preds.push((i) => test(i.key));
    else if (f === 'project') preds.push((i) => test(i.key.split('-')[0] ?? ''));
    else if (f === 'status') preds.push((i) => test(i.fields.status.name));
    else if (f === 'statuscategory') preds.push((i) => (v === 'done' ? neg : true));
    else if (f === 'priority') preds.push((i) => test(i.fields.priority.name));
    else if ((f === 'text' || f === 'summary') && op === '~') preds.push((i) => `${i.fields.summary} ${i.fields.description}`.toLowerCase().includes(v));
  }
  return (i) => preds.every((p) => p(i));
}

/** GitHub search subset: is:pr|issue|open, repo:org/x, review-requested:, assignee:, author:, involves:, words. */
export function githubMatcher(q: string, user: string): (g: GithubItem) => boolean {
  const preds: Array<(g: GithubItem) => boolean> = [];
  for (const t of q.split(/\s+/).filter(Boolean)) {
    const i = t.indexOf(':');
    const op = i > 0 ? t.slice(0, i) : '';
    const arg = i > 0 ? t.slice(i + 1) : t;
    const who = arg === '@me' ? user : arg;
    if (op === 'is' && arg === 'pr') preds.push((g) => g.isPr);
    else if (op === 'is' && arg === 'issue') preds.push((g) => !g.isPr);
    else if (op === 'is' || op === 'state' || op === 'sort') continue;
    else if (op === 'repo') preds.push((g) => `${ORG}/${g.repo}` === arg);
    else if (op === 'review-requested') preds.push((g) => g.reviewers.includes(who));
    else if (op === 'assignee') preds.push((g) => g.assignees.includes(who));
    else if (op === 'author') preds.push((g) => g.author === who);
    else if (op === 'involves') preds.push((g) => g.author === who || g.reviewers.includes(who) || g.assignees.includes(who));
    else preds.push((g) => `${g.title} ${g.body}`.toLowerCase().includes(t.toLowerCase()));
  }
  return (g) => preds.every((p) => p(g));
}

/** Drive `q`: `name contains 'x'`, `fullText contains 'x'` (ANDed), or plain words. */
function driveTerms(q: string): string[] {
  const quoted = [...q.matchAll(/(?:name|fullText)\s+contains\s+'([^']*)'/gi)].map((m) => (m[1] ?? '').toLowerCase());
  if (quoted.length > 0) return quoted.filter((x) => x.length > 0);
  return terms(q.replace(/\btrashed\s*=\s*false\b/gi, ''));
}
