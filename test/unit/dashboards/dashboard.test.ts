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

// ── every dashboard; the trends dashboard; annotations from the run's events ──

interface Dashboard {
  uid: string;
  panels: Panel[];
  annotations?: { list: Array<{ name: string; datasource: { type: string }; expr?: string }> };
}

const DIR = path.resolve(import.meta.dirname, '../../../dashboards');
const dashboards = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, dash: JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Dashboard }));

/** Every PromQL a dashboard holds: panel targets and Prometheus annotations. */
function promql(d: Dashboard): Array<{ where: string; expr: string }> {
  return [
    ...d.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
    ...(d.annotations?.list ?? []).filter((a) => a.datasource.type === 'prometheus' && a.expr !== undefined).map((a) => ({ where: `annotation ${a.name}`, expr: a.expr! })),
  ];
}

describe.each(dashboards)('dashboards/$file', ({ dash }) => {
  it('every PromQL in it parses (lezer-promql), annotations included', () => {
    const all = promql(dash);
    expect(all.length).toBeGreaterThan(0);
    for (const e of all) expect(checkPromQL(e.expr), `${e.where}: ${e.expr}`).toBeUndefined();
  });
});

describe('the trends dashboard', () => {
  const trends = dashboards.find((d) => d.dash.uid === 'clawstorm-trends')?.dash;

  it('exists, and names only series a run remote-writes', async () => {
    expect(trends).toBeDefined();
    const { runSeries } = await import('../../../src/history/remote-write.ts');
    const { parseResults } = await import('../../../src/report/results.ts');
    const { sampleResults } = await import('../report/fixtures.ts');
    const written = new Set(runSeries(parseResults(sampleResults()), 'b1').map((s) => s.labels.__name__));
    const used = new Set(promql(trends!).flatMap((e) => [...e.expr.matchAll(/\b(clawstorm_[a-z_]+)\b/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThanOrEqual(5);
    for (const name of used) expect(written.has(name), `${name} is not written by src/history/remote-write.ts`).toBe(true);
  });
});

describe('the run dashboard’s annotations', () => {
  const run = dashboards.find((d) => d.dash.uid === 'clawstorm-run')!.dash;

  it('come from the run’s Faro events: only event names the harness emits', async () => {
    const { RUN_EVENTS } = await import('../../../src/events/run-events.ts');
    const loki = (run.annotations?.list ?? []).filter((a) => a.datasource.type === 'loki');
    expect(loki.length).toBeGreaterThanOrEqual(2);
    const named = loki.flatMap((a) => [...(a.expr ?? '').matchAll(/event_name=~?"([^"]+)"/g)].flatMap((m) => m[1]!.split('|')));
    expect(named).toEqual(expect.arrayContaining(['run_start', 'fault_injected', 'fault_rolled_back', 'verdict']));
    for (const n of named) expect(RUN_EVENTS as readonly string[], n).toContain(n);
  });
});
