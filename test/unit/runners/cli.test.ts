// The runner and judge flags through the CLI: bad segments, missing places, both or neither of
// the judge's sources are one line and exit 2, before anything runs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { EXIT } from '../../../src/cli/errors.ts';

let out: string;
beforeEach(() => {
  out = '';
  const grab = (s: string | Uint8Array) => {
    out += String(s);
    return true;
  };
  vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('runner and judge flags', () => {
  it('run --shard 4/3: exit 2 naming the shard', async () => {
    expect(await main(['run', 'policy-evaluation', '--shard', '4/3', '--results-dir', '/nonexistent/r', '--testbed-state', '/nonexistent/bed'])).toBe(EXIT.usage);
    expect(out).toMatch(/shard "4\/3": i must be between 1 and N \(3\)/);
  });

  it('run --segment outside its sequence: exit 2', async () => {
    expect(await main(['run', 'policy-evaluation', '--segment', '1/4:1/2', '--segment-sequence', '0,1/3,2/3,1', '--results-dir', '/nonexistent/r', '--testbed-state', '/nonexistent/bed'])).toBe(EXIT.usage);
    expect(out).toMatch(/is not one of the segments of the sequence/);
  });

  it('run --shard and --segment together, or without --results-dir: exit 2', async () => {
    expect(await main(['run', 'policy-evaluation', '--shard', '1/3', '--segment', '0:1/3', '--results-dir', '/nonexistent/r'])).toBe(EXIT.usage);
    expect(out).toMatch(/give one/);
    out = '';
    expect(await main(['run', 'policy-evaluation', '--shard', '1/3'])).toBe(EXIT.usage);
    expect(out).toMatch(/give --results-dir/);
  });

  it('a runner without a target: exit 2 (every runner must load the same target, none starts a bed of its own)', async () => {
    expect(await main(['run', 'policy-evaluation', '--shard', '1/3', '--results-dir', '/nonexistent/r'])).toBe(EXIT.usage);
    expect(out).toMatch(/a runner needs --target or --testbed-state/);
  });

  it('judge: both or neither of --from-prometheus and --results-dir, or no target, is a usage error', async () => {
    expect(await main(['judge', '--run', 'r', '--runners', '3', '--from-prometheus', '--results-dir', '/nonexistent/r', '--target', 'x.yaml'])).toBe(EXIT.usage);
    expect(out).toMatch(/--from-prometheus or --results-dir, not both/);
    out = '';
    expect(await main(['judge', '--run', 'r', '--runners', '3', '--from-prometheus'])).toBe(EXIT.usage);
    expect(out).toMatch(/give --target/);
    out = '';
    expect(await main(['judge', '--run', 'r', '--runners', '3', '--from-prometheus', '--target', 'x.yaml', '--lookback', 'soon'])).toBe(EXIT.usage);
    expect(out).toMatch(/--lookback soon/);
    out = '';
    expect(await main(['judge', '--run', 'r', '--runners', '3', '--target', 'x.yaml'])).toBe(EXIT.usage);
    expect(out).toMatch(/give --results-dir/);
    out = '';
    expect(await main(['judge', '--run', 'r', '--runners', '3', '--results-dir', '/nonexistent/r'])).toBe(EXIT.usage);
    expect(out).toMatch(/give --target/);
  });

  it('gate --runners 0: exit 2', async () => {
    expect(await main(['gate', '--runners', '0', '--testbed-state', '/nonexistent/bed'])).toBe(EXIT.usage);
    expect(out).toMatch(/--runners 0: between 1 and 64/);
  });
});
