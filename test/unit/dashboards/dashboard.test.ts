import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPromQL } from '../../../src/prom/syntax.ts';
import { createGatewayMetrics } from '../../../harness/gateway/metrics.ts';

const file = path.resolve(import.meta.dirname, '../../../dashboards/clawstorm-run.json');

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}

describe('the run dashboard', () => {
  const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as { uid: string; panels: Panel[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '1m') })));

  it('has panels, and every query is valid PromQL', () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) expect(checkPromQL(e.expr), `${e.panel}: ${e.expr}`).toBeUndefined();
  });

  it('only names gateway metrics the reference gateway exports (the dashboard follows the metric contract)', async () => {
    const m = createGatewayMetrics({ gateway: 'gw-x', az: 'az-a', version: '0', skillHash: 'abcd' });
    const exported = new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
    const used = new Set(exprs.flatMap((e) => [...e.expr.matchAll(/\b(openclaw_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[{[ )])/g)].map((x) => x[1] as string)));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(exported.has(name), `${name} is not exported by harness/gateway/metrics.ts`).toBe(true);
  });
});

describe('the OpenClaw bed dashboard', () => {
  const dash = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../dashboards/clawstorm-openclaw.json'), 'utf8')) as { uid: string; panels: Panel[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '1m') })));

  it('has its own uid, and every query is valid PromQL', () => {
    expect(dash.uid).not.toBe('clawstorm-run');
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) expect(checkPromQL(e.expr), `${e.panel}: ${e.expr}`).toBeUndefined();
  });

  it('reads only what a bed of real gateways has: HAProxy, blackbox, node exporter, the recording rule', () => {
    // The real gateway exports no openclaw_* series without a plugin that is not on npm.
    for (const e of exprs) expect(e.expr, e.panel).toMatch(/^(?!.*\bopenclaw_)(?=.*\b(haproxy_|probe_|node_|clawstorm:gateway_up))/);
  });
});
