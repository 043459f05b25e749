import { describe, expect, it } from 'vitest';
import {
  buildBriefing,
  correlate,
  correlationScore,
  dueScore,
  extractRefs,
  freeBlocks,
  rankTasks,
  scoreTasks,
  senderImportance,
  type Task,
} from '../../../harness/gateway/tools/briefing.ts';

const ev = (start: string, end: string) => ({ start: { dateTime: `2026-03-10T${start}:00.000Z` }, end: { dateTime: `2026-03-10T${end}:00.000Z` } });
const block = (start: string, end: string) => ({ start: `2026-03-10T${start}:00.000Z`, end: `2026-03-10T${end}:00.000Z` });

describe('freeBlocks', () => {
  it('09:00–10:00 and 13:00–14:30 busy ⇒ 10:00–13:00 and 14:30–17:00 free', () => {
    expect(freeBlocks([ev('13:00', '14:30'), ev('09:00', '10:00')], '2026-03-10')).toEqual([block('10:00', '13:00'), block('14:30', '17:00')]);
  });

  it('an empty day is one block 09:00–17:00', () => {
    expect(freeBlocks([], '2026-03-10')).toEqual([block('09:00', '17:00')]);
  });

  it('merges overlapping meetings, clips to the window, drops gaps under 30 minutes', () => {
    const events = [
      ev('08:00', '09:15'), // starts before the window
      ev('09:40', '11:00'), // gap 09:15–09:40 is 25 min: dropped
      ev('10:30', '11:30'), // overlaps the previous
      ev('12:00', '12:30'), // gap 11:30–12:00 is exactly 30 min: kept
      ev('16:45', '18:00'), // runs past the window
    ];
    expect(freeBlocks(events, '2026-03-10')).toEqual([block('11:30', '12:00'), block('12:30', '16:45')]);
  });

  it('a meeting inside another adds nothing; a fully booked day has no blocks', () => {
    expect(freeBlocks([ev('09:00', '12:00'), ev('10:00', '11:00'), ev('12:00', '17:00')], '2026-03-10')).toEqual([]);
  });
});

const task = (p: Partial<Task> & Pick<Task, 'id' | 'source'>): Task => ({
  kind: 'issue',
  title: p.id,
  url: null,
  due: null,
  urgency: 0,
  senderImportance: 0,
  refs: [],
  keywords: [],
  ...p,
});

describe('correlation', () => {
  it('extracts Jira keys and repo#PR references', () => {
    expect(extractRefs('Re: PAY-412 and payments#73, see WEB-9; not a-ref#')).toEqual(['PAY-412', 'WEB-9', 'payments#73']);
  });

  it('links tasks of different systems sharing a reference (strong) or ≥3 keywords (weak), never within one system', () => {
    const tasks = [
      task({ id: 'jira:PAY-412', source: 'jira', refs: ['PAY-412'], keywords: ['ledger', 'payments', 'migration'] }),
      task({ id: 'gmail:1', source: 'gmail', kind: 'email', refs: ['PAY-412'] }),
      task({ id: 'github:payments#73', source: 'github', kind: 'pull_request', refs: ['PAY-412', 'payments#73'] }),
      task({ id: 'calendar:1', source: 'calendar', kind: 'meeting', refs: ['payments#73'] }),
      task({ id: 'gdrive:1', source: 'gdrive', kind: 'doc', keywords: ['ledger', 'payments', 'migration', 'design'] }),
      task({ id: 'gdrive:2', source: 'gdrive', kind: 'doc', keywords: ['ledger', 'payments'] }),
      task({ id: 'jira:PAY-413', source: 'jira', refs: ['PAY-413'], keywords: ['ledger', 'payments', 'migration'] }),
    ];
    const c = correlate(tasks);
    // 7 tasks, pairs within the same system skipped: C(7,2)=21 minus jira-jira and gdrive-gdrive.
    expect(c.pairsCompared).toBe(19);
    expect(c.strong[0]).toEqual([1, 2]);
    expect(c.strong[2]).toEqual([0, 1, 3]);
    expect(c.strong[3]).toEqual([2]);
    expect(c.weak[0]).toEqual([4]);
    expect(c.weak[4]).toEqual([0, 6]);
    expect(c.weak[5]).toEqual([]);
  });
});

describe('scoring', () => {
  const now = Date.parse('2026-03-10T08:00:00Z');

  it('due: overdue 30, ≤1 day 25, ≤2 days 18, ≤3 days 12, ≤1 week 6, later or none 0', () => {
    const at = (h: number) => new Date(now + h * 3_600_000).toISOString();
    expect([dueScore(at(-1), now), dueScore(at(5), now), dueScore(at(30), now), dueScore(at(60), now), dueScore(at(100), now), dueScore(at(200), now), dueScore(null, now)]).toEqual([30, 25, 18, 12, 6, 0, 0]);
  });

  it('sender importance: executives > VPs > directors > colleagues > external', () => {
    expect(senderImportance('Alex <ceo@acme.example>', 'acme.example')).toBe(15);
    expect(senderImportance('vp-engineering@acme.example', 'acme.example')).toBe(12);
    expect(senderImportance('director-platform@acme.example', 'acme.example')).toBe(10);
    expect(senderImportance('Dana <dana.wu@acme.example>', 'acme.example')).toBe(6);
    expect(senderImportance('x@globex.example', 'acme.example')).toBe(3);
  });

  it('correlation: 8 per strong, 2 per weak link, capped at 20', () => {
    expect(correlationScore(1, 1)).toBe(10);
    expect(correlationScore(3, 0)).toBe(20);
    expect(correlationScore(0, 20)).toBe(20);
  });

  it('scores are the capped sum of the parts, within 0–100, ranked by score, due, id', () => {
    const tasks = [
      task({ id: 'b', source: 'jira', urgency: 35, due: '2026-03-09T17:00:00.000Z', senderImportance: 15, refs: ['X-1'] }),
      task({ id: 'a', source: 'gmail', urgency: 99, due: '2026-03-09T00:00:00.000Z', senderImportance: 99, refs: ['X-1'] }),
      task({ id: 'c', source: 'github', urgency: 10 }),
      task({ id: 'd', source: 'gdrive', urgency: 10 }),
    ];
    const scored = scoreTasks(tasks, correlate(tasks), now);
    expect(scored.map((t) => t.score)).toEqual([35 + 30 + 15 + 8, 35 + 30 + 15 + 8, 10, 10]);
    expect(scored[1]?.scoreParts).toEqual({ urgency: 35, due: 30, sender: 15, correlation: 8 });
    // Equal scores: earlier due first, then id.
    expect(rankTasks(scored).map((t) => t.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(rankTasks(scored, 2)).toHaveLength(2);
  });
});

describe('buildBriefing', () => {
  it('is deterministic and keeps the top 20', () => {
    const messages = Array.from({ length: 30 }, (_, i) => ({
      id: `m${i}`,
      labelIds: i % 2 === 0 ? ['UNREAD', 'Label_needs-reply'] : ['INBOX'],
      snippet: `about PAY-${i % 5}`,
      internalDate: String(Date.parse('2026-03-09T10:00:00Z') - i * 3_600_000),
      payload: { headers: [{ name: 'From', value: i === 3 ? 'ceo@acme.example' : 'dana@acme.example' }, { name: 'To', value: 'u@acme.example' }, { name: 'Subject', value: `PAY-${i % 5} question` }] },
    }));
    const issues = Array.from({ length: 5 }, (_, i) => ({
      key: `PAY-${i}`,
      fields: { summary: `ledger ${i}`, status: { name: 'In Progress' }, priority: { name: i === 0 ? 'Highest' : 'Low' }, duedate: '2026-03-10', labels: [] },
    }));
    const input = { user: 'u', date: '2026-03-10', messages, events: [ev('09:00', '10:00'), ev('13:00', '14:30')].map((e, i) => ({ id: `e${i}`, summary: 'PAY-0 review', attendees: [], ...e })), issues, github: [], files: [] };
    const a = buildBriefing(input);
    const b = buildBriefing(structuredClone(input));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.tasks).toHaveLength(20);
    expect(a.sources).toEqual({ gmail: 30, calendar: 2, jira: 5, github: 0, gdrive: 0 });
    expect(a.freeBlocks).toEqual([block('10:00', '13:00'), block('14:30', '17:00')]);
    expect(a.tasks[0]?.id).toBe('jira:PAY-0');
    for (let i = 1; i < a.tasks.length; i++) expect((a.tasks[i - 1]?.score ?? 0) >= (a.tasks[i]?.score ?? 0)).toBe(true);
  });
});
