// A Prometheus for the scale tests: a world that says, at each time, which gateways exist, how many
// replicas are asked for and how many WebSocket connections each gateway holds (null: its scrape is
// missing). It answers exactly the queries the bed's plan asks, and refuses any other so a test
// notices an unplanned query.
import type { QueryAt, WireAnswer } from '../../../src/scale/observe.ts';
import { BED_DEFAULTS } from '../../../src/scale/plan.ts';

export interface World {
  spec: number | null;
  /** Per gateway: connections, or null when its scrape is missing. */
  conns: Record<string, number | null>;
  degraded?: string[];
  disk?: Record<string, number>;
}

export const WS_PODS = 'sum by (gateway) (openclaw_ws_connections_active)';
export const WS_AVG = 'avg(openclaw_ws_connections_active{job="gateway"})';
export const WS_INNER = 'openclaw_ws_connections_active{job="gateway"}';

function vector(t: number, series: Array<{ labels: Record<string, string>; v: number }>): WireAnswer {
  return { status: 'success', data: { resultType: 'vector', result: series.map((s) => ({ metric: s.labels, value: [t, String(s.v)] as [number, string] })) } };
}

export function fakeProm(world: (t: number) => World, asked: string[] = []): QueryAt {
  return async (query, t) => {
    asked.push(query);
    const w = world(t);
    const gws = Object.keys(w.conns).sort();
    const present = gws.filter((g) => w.conns[g] !== null);
    switch (query) {
      case BED_DEFAULTS.podsQuery:
        return vector(t, gws.map((g) => ({ labels: { __name__: 'up', job: 'gateway', gateway: g }, v: w.conns[g] === null ? 0 : 1 })));
      case BED_DEFAULTS.replicasQuery:
        return vector(t, w.spec === null ? [] : [{ labels: {}, v: w.spec }]);
      case WS_PODS:
        return vector(t, present.map((g) => ({ labels: { gateway: g }, v: w.conns[g]! })));
      case WS_INNER:
        return vector(t, present.map((g) => ({ labels: { job: 'gateway', gateway: g }, v: w.conns[g]! })));
      case WS_AVG:
        return vector(t, present.length === 0 ? [] : [{ labels: {}, v: present.reduce((a, g) => a + w.conns[g]!, 0) / present.length }]);
      case BED_DEFAULTS.degradedQuery:
        return vector(t, present.map((g) => ({ labels: { gateway: g }, v: w.degraded?.includes(g) ? 1 : 0 })));
      case BED_DEFAULTS.diskRatioQuery:
        return vector(t, present.map((g) => ({ labels: { gateway: g, az: 'az-a' }, v: w.disk?.[g] ?? 0.42 })));
      case BED_DEFAULTS.diskGateQuery:
        return vector(t, present.flatMap((g) => [{ labels: { gateway: g, gate: 'yellow' }, v: 0.82 }, { labels: { gateway: g, gate: 'red' }, v: 0.9 }]));
      default:
        throw new Error(`fake Prometheus: unplanned query ${query}`);
    }
  };
}

/** `n` gateways sharing `total` connections evenly (whole connections, the remainder on the first). */
export function spread(n: number, total: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (let i = 1; i <= n; i++) out[`gw-${i}`] = Math.floor(total / n) + (i === 1 ? total % n : 0);
  return out;
}
