import { describe, expect, it } from 'vitest';
import { duplicateAttribution } from '../../../src/storm/duplicates.ts';

describe('duplicate attribution', () => {
  it('tells a second run from another gateway from one on the same gateway', () => {
    const a = duplicateAttribution([
      { key: 'k1', runId: 'r1', server: 'gw-1' },
      { key: 'k1', runId: 'r1', server: 'gw-1' }, // a replay: same run, not a duplicate
      { key: 'k2', runId: 'r2', server: 'gw-1' },
      { key: 'k2', runId: 'r3', server: 'gw-2' }, // replay state is per replica
      { key: 'k3', runId: 'r4', server: 'gw-2' },
      { key: 'k3', runId: 'r5', server: 'gw-2' }, // the same replica forgot (restart)
    ]);
    expect(a).toEqual({ duplicated_keys_other_gateway: 1, duplicated_keys_same_gateway: 1 });
  });

  it('is no data when the load balancer did not say who answered', () => {
    expect(duplicateAttribution([{ key: 'k', runId: 'r' }])).toEqual({ duplicated_keys_other_gateway: null, duplicated_keys_same_gateway: null });
    expect(duplicateAttribution([])).toEqual({ duplicated_keys_other_gateway: null, duplicated_keys_same_gateway: null });
  });
});
