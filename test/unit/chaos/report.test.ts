import { describe, expect, it } from 'vitest';
import { chaosResults } from '../../../src/chaos/run.ts';
import type { DrillResult } from '../../../src/chaos/engine.ts';
import { parseResults, serializeResults } from '../../../src/report/results.ts';
import { renderMarkdown } from '../../../src/report/markdown.ts';
import { renderJUnit } from '../../../src/report/junit.ts';

const storm: DrillResult = {
  name: 'webhook-storm',
  title: 'Webhook retry storm',
  status: 'Pass',
  startedAt: '2026-01-01T00:00:00.000Z',
  events: [{ t: 0, label: 'capped: storm starts', kind: 'phase' }],
  figures: { opt_senders: 40, 'capped.requests': 290, 'unbounded.requests': 960, 'capped.lost': 0, 'unbounded.lost': 0, 'unbounded.drain_ms': null, duration_s: 20.5 },
  thresholds: [{ name: 'capped: no acknowledged delivery lost', source: 'client', expr: 'capped.lost == 0', observed: 0, verdict: 'pass', detail: 'lost = 0 meets == 0' }],
};
const failing: DrillResult = {
  name: 'gateway-pair',
  title: 'Gateway pair failover',
  status: 'Fail',
  events: [],
  figures: { haproxy_down_ms: 1400 },
  thresholds: [{ name: 'client p95 < 1000 ms over 3 s (during)', source: 'client', expr: 'latency p(95)<1000ms over 3s', observed: 1531, unit: 'ms', verdict: 'fail', detail: 'deviated at 10.2 s' }],
};

describe('drill and storm reports', () => {
  it('verdict and exit code follow the drills: pass 0, fail 1, aborted → inconclusive 3', () => {
    expect(chaosResults({ drills: [storm], profile: 'smoke', target: 'local', startedAt: new Date(), aborted: false }).exitCode).toBe(0);
    expect(chaosResults({ drills: [storm, failing], profile: 'smoke', target: 'local', startedAt: new Date(), aborted: false }).exitCode).toBe(1);
    const ab = chaosResults({ drills: [storm], profile: 'smoke', target: 'local', startedAt: new Date(), aborted: true });
    expect(ab.exitCode).toBe(3);
    expect(ab.results.abortReason).toMatch(/rolled back/);
  });

  it('results.md: a drills table, and the storm disciplines side by side in one table', () => {
    const { results } = chaosResults({ drills: [storm, failing], profile: 'smoke', target: 'local', startedAt: new Date(), aborted: false });
    const r = parseResults(JSON.parse(serializeResults(results)));
    const md = renderMarkdown(r);
    expect(md).toContain('| Drill | Status | Thresholds passed | Failed | Inconclusive | No data |');
    expect(md).toContain('| Webhook retry storm | Pass | 1 | 0 | 0 |');
    expect(md).toContain('| Gateway pair failover | Fail | 0 | 1 | 0 |');
    expect(md).toContain('| Figure | capped | unbounded |');
    expect(md).toContain('| requests | 290 | 960 |');
    expect(md).toContain('| drain_ms | -- | no data |');
    expect(md).toContain('Options: senders 40');
    expect(md).toContain('| haproxy_down_ms | 1400 |');
    const junit = renderJUnit(r);
    expect(junit).toMatch(/<testsuite name="Gateway pair failover"[^>]*failures="1"/);
    expect(junit).toMatch(/<testsuite name="Webhook retry storm"[^>]*failures="0"/);
  });
});
