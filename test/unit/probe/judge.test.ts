import { describe, expect, it } from 'vitest';
import type { ProbeResponse } from '../../../contract/probe.ts';
import { probeThresholds, summarizeProbes } from '../../../src/probe/judge.ts';
import type { ProbeSample } from '../../../src/probe/sampler.ts';

function composite(degraded: boolean, schemaVersion = '1.0.0', reasons: string[] = []): ProbeResponse {
  return {
    status: degraded ? 'degraded' : 'healthy',
    keda: 'openclaw-build-lane',
    canary: { '5xx_rate': 0, p99_ms: 10 },
    gateway: { disk_ok: true, queue_depth: 0, skill_hash: 'abcd1234' },
    degraded,
    detail: { schema_version: schemaVersion, ...(reasons.length ? { reasons } : {}) },
  };
}

function sample(gateway: string, t: number, o: Partial<ProbeSample> = {}): ProbeSample {
  const degraded = o.degraded === undefined ? false : o.degraded;
  return { gateway, kind: 'composite', path: '/keda/metrics', ms: 5, status: 200, valid: true, degraded, ...(degraded === null ? {} : { composite: composite(degraded) }), t, lbUp: true, promUp: true, ...o };
}

const byName = (ts: ReturnType<typeof probeThresholds>, prefix: string) => ts.find((x) => x.name.startsWith(prefix))!;

describe('probe samples → figures and thresholds', () => {
  it('a gateway degraded at any sample fails closed, naming it, when and why', () => {
    const samples = [sample('gw-1', 0), sample('gw-2', 0), sample('gw-1', 1), sample('gw-2', 1.1, { degraded: true, composite: composite(true, '1.0.0', ['degraded flag set']) }), sample('gw-2', 2.1)];
    const ts = probeThresholds(summarizeProbes(samples), { degraded: true });
    const d = byName(ts, 'no gateway degraded');
    expect(d.verdict).toBe('fail');
    expect(d.detail).toBe('gw-2 degraded at 1.1 s into the run (1 of 3 samples: degraded flag set)');
    expect(probeThresholds(summarizeProbes(samples), { degraded: false }).some((x) => x.name.startsWith('no gateway degraded'))).toBe(false);
  });

  it('the probe SLO: P95 of each gateway < 200 ms; the worst gateway is the observed value', () => {
    const slow = Array.from({ length: 20 }, (_, i) => sample('gw-2', i, { ms: i < 18 ? 20 : 400 }));
    const fast = Array.from({ length: 20 }, (_, i) => sample('gw-1', i, { ms: 8 }));
    const r = byName(probeThresholds(summarizeProbes([...fast, ...slow]), { degraded: true }), 'probe P95');
    expect(r.verdict).toBe('fail');
    expect(r.observed).toBeGreaterThanOrEqual(399);
    expect(byName(probeThresholds(summarizeProbes(fast), { degraded: true }), 'probe P95').verdict).toBe('pass');
  });

  it('drift: different schema versions or paths between gateways', () => {
    const s = summarizeProbes([sample('gw-1', 0), sample('gw-2', 0, { composite: composite(false, '2.0.0') }), sample('gw-3', 0, { path: '/healthz/composite' })]);
    expect(s.drift.join('\n')).toMatch(/probe path differs: gw-1, gw-2 → \/keda\/metrics; gw-3 → \/healthz\/composite/);
    expect(s.drift.join('\n')).toMatch(/schema version differs/);
    expect(byName(probeThresholds(s, { degraded: true }), 'probes agree').verdict).toBe('fail');
  });

  it('a probe that disagrees with the load balancer for longer than tolerated is reported; a short lag is not', () => {
    const down = (t: number) => sample('gw-1', t, { lbUp: false });
    const short = summarizeProbes([sample('gw-1', 0), down(1), down(2), sample('gw-1', 3)]);
    expect(short.disagreements).toEqual([]);
    const long = summarizeProbes([sample('gw-1', 0), ...[1, 2, 3, 4, 5, 6, 7].map(down), sample('gw-1', 8)]);
    expect(long.disagreements).toEqual(['gw-1: its probe answers while the load balancer has it down, for 6.0 s from 1.0 s']);
  });

  it('no probe answered: every probe threshold is no data, never a pass', () => {
    const s = summarizeProbes([sample('gw-1', 0, { valid: false, ms: null, status: null, degraded: null, problem: 'did not answer: ECONNREFUSED' })]);
    expect(probeThresholds(s, { degraded: true }).map((x) => x.verdict)).toEqual(['no_data', 'no_data', 'no_data']);
    expect(s.gateways[0]!.firstProblem).toBe('did not answer: ECONNREFUSED');
  });
});
