import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/util/duration.ts';
import { parseExecutorConfig } from '../../../src/load/executors/index.ts';

describe('parseDuration', () => {
  it('parses k6-style durations to ms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration(' 10s ')).toBe(10_000);
  });

  it('rejects garbage with a message naming the input', () => {
    for (const bad of ['', '10', '10x', 's', '-5s', '5 s', '1m30', '1e3s']) {
      expect(() => parseDuration(bad), bad).toThrow(/duration/);
    }
    expect(() => parseDuration('3 minutes')).toThrow(/"3 minutes"/);
  });

  it('formats back', () => {
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(250)).toBe('250ms');
  });
});

describe('executor schemas', () => {
  const bad = (input: unknown): string => {
    try {
      parseExecutorConfig(input, 'scenario "s1"');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a rejection');
  };

  it('accepts k6-like configs and fills defaults', () => {
    const c = parseExecutorConfig({ executor: 'constant-arrival-rate', rate: 50, duration: '3s', preAllocatedVUs: 10, maxVUs: 20 });
    expect(c).toMatchObject({ executor: 'constant-arrival-rate', rate: 50, timeUnit: 1000, duration: 3000, gracefulStop: 30_000, startTime: 0 });
    const r = parseExecutorConfig({ executor: 'ramping-vus', stages: [{ duration: '1m', target: 500 }, { duration: '30s', target: 0 }] });
    expect(r).toMatchObject({ startVUs: 1, gracefulRampDown: 30_000, stages: [{ duration: 60_000, target: 500 }, { duration: 30_000, target: 0 }] });
    const p = parseExecutorConfig({ executor: 'per-vu-iterations', vus: 500, iterations: 1, barrier: true });
    expect(p).toMatchObject({ vus: 500, iterations: 1, barrier: true, maxDuration: 600_000 });
  });

  it('rejects bad input with one clear line naming scenario and field', () => {
    expect(bad({ executor: 'constant-vus', vus: 0, duration: '10s' })).toMatch(/^scenario "s1": vus: .*>=1/);
    expect(bad({ executor: 'constant-vus', vus: 2, duration: '10 parsecs' })).toMatch(/duration: invalid duration "10 parsecs"/);
    expect(bad({ executor: 'constant-vus', vus: 2 })).toMatch(/duration/);
    expect(bad({ executor: 'warp-drive' })).toMatch(/unknown executor "warp-drive"; expected one of per-vu-iterations/);
    expect(bad({ executor: 'per-vu-iterations', vus: 2, vu: 3 })).toMatch(/Unrecognized key.*"vu"/);
    expect(bad({ executor: 'shared-iterations', vus: 10, iterations: 5 })).toMatch(/iterations: iterations must be >= vus/);
    expect(bad({ executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 10, maxVUs: 5 })).toMatch(
      /maxVUs: maxVUs must be >= preAllocatedVUs/,
    );
    expect(bad({ executor: 'constant-arrival-rate', rate: 0, duration: '1s', preAllocatedVUs: 1 })).toMatch(/rate: /);
    expect(bad({ executor: 'ramping-vus', stages: [] })).toMatch(/stages: stages needs at least one/);
    expect(bad({ executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: -1 }], preAllocatedVUs: 1 })).toMatch(
      /stages\.0\.target/,
    );
    expect(bad({ executor: 'constant-vus', vus: 1.5, duration: '1s' })).toMatch(/vus: .*expected int/);
  });
});
