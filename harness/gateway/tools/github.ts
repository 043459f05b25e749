import { z } from 'zod';
import { defineTool, UserIdArg } from './registry.ts';
import { enc, readParsed } from './read.ts';
import { GithubIssueListSchema, GithubIssueSchema, GithubPullListSchema, GithubPullSchema, GithubSearchSchema } from './upstream-shapes.ts';

const ORG = 'acme';
const Args = z.object({
  user_id: UserIdArg,
  /** `repo` or `org/repo`; the organisation defaults to the tenant's (acme). */
  repo: z.string().regex(/^([\w.-]{1,100}\/)?[\w.-]{1,100}$/).optional(),
  number: z.number().int().min(1).optional(),
});
const split = (repo: string): [string, string] => {
  const [a, b] = repo.split('/');
  return b === undefined ? [ORG, a ?? repo] : [a ?? ORG, b];
};

type PullLike = { number: number; title: string; html_url: string; draft?: boolean | undefined; user: { login: string }; requested_reviewers: Array<{ login: string }>; labels: Array<{ name: string }>; created_at: string };
const pullSummary = (p: PullLike) => ({
  number: p.number,
  title: p.title,
  url: p.html_url,
  draft: p.draft ?? false,
  author: p.user.login,
  reviewers: p.requested_reviewers.map((r) => r.login),
  labels: p.labels.map((l) => l.name),
  created_at: p.created_at,
});

export const githubPrReadTool = defineTool({
  name: 'github_pr_read',
  domain: 'integrations',
  schema: Args,
  classification: 'internal',
  targetSystem: 'github',
  additional: (a) => ({ operation: a.number === undefined ? 'search' : 'read', repo: a.repo ?? null }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    if (a.repo !== undefined && a.number !== undefined) {
      const [org, repo] = split(a.repo);
      const p = await readParsed(ctx, 'github', `/github/repos/${enc(org)}/${enc(repo)}/pulls/${a.number}`, u, GithubPullSchema);
      return { result: { pull: { ...pullSummary(p), body: p.body ?? '' } }, dataAccessed: [`github:${repo}#${p.number}`] };
    }
    if (a.repo !== undefined) {
      const [org, repo] = split(a.repo);
      const list = await readParsed(ctx, 'github', `/github/repos/${enc(org)}/${enc(repo)}/pulls?reviewer=${enc(u)}&per_page=100`, u, GithubPullListSchema);
      return { result: { count: list.length, pulls: list.map(pullSummary) }, dataAccessed: list.map((p) => `github:${repo}#${p.number}`) };
    }
    const r = await readParsed(ctx, 'github', `/github/search/issues?q=${enc(`is:open is:pr review-requested:${u}`)}&per_page=100`, u, GithubSearchSchema);
    return {
      result: { count: r.items.length, pulls: r.items.map((i) => ({ ...pullSummary(i), repo: i.repository_url?.split('/').pop() ?? null })) },
      dataAccessed: r.items.map((i) => `github:${i.html_url}`),
    };
  },
});

export const githubIssueReadTool = defineTool({
  name: 'github_issue_read',
  domain: 'integrations',
  schema: Args,
  classification: 'internal',
  targetSystem: 'github',
  additional: (a) => ({ operation: a.number === undefined ? 'search' : 'read', repo: a.repo ?? null }),
  async run(ctx, call, a) {
    const u = a.user_id ?? call.userId;
    const issueSummary = (i: z.output<typeof GithubIssueSchema>) => ({
      number: i.number,
      title: i.title,
      url: i.html_url,
      author: i.user.login,
      assignees: i.assignees.map((x) => x.login),
      labels: i.labels.map((l) => l.name),
      is_pull_request: i.pull_request !== undefined,
    });
    if (a.repo !== undefined && a.number !== undefined) {
      const [org, repo] = split(a.repo);
      const i = await readParsed(ctx, 'github', `/github/repos/${enc(org)}/${enc(repo)}/issues/${a.number}`, u, GithubIssueSchema);
      return { result: { issue: { ...issueSummary(i), body: i.body ?? '' } }, dataAccessed: [`github:${repo}#${i.number}`] };
    }
    if (a.repo !== undefined) {
      const [org, repo] = split(a.repo);
      const list = await readParsed(ctx, 'github', `/github/repos/${enc(org)}/${enc(repo)}/issues?assignee=${enc(u)}&per_page=100`, u, GithubIssueListSchema);
      return { result: { count: list.length, issues: list.map(issueSummary) }, dataAccessed: list.map((i) => `github:${repo}#${i.number}`) };
    }
    const r = await readParsed(ctx, 'github', `/github/search/issues?q=${enc(`is:open is:issue assignee:${u}`)}&per_page=100`, u, GithubSearchSchema);
    return { result: { count: r.items.length, issues: r.items.map(issueSummary) }, dataAccessed: r.items.map((i) => `github:${i.html_url}`) };
  },
});
