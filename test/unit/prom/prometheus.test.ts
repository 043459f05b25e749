import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, stopPrometheus, prometheusConfig, type PrometheusInstance } from '../../../harness/launch/prometheus.ts';
import { waitForTargetsUp } from '../../../src/prom/targets.ts';
import { DEFAULT_METRICS } from '../../../src/config/default-metrics.ts';
import { PromClient, PromError } from '../../../src/prom/client.ts';
import { substitutePlaceholders } from '../../../src/prom/syntax.ts';
import { evaluatePromThreshold } from '../../../src/score/promql.ts';
import { evaluateMetricRows } from '../../../src/score/metrics.ts';
import { overallVerdict } from '../../../src/score/verdict.ts';
import { isAlive, MissingBinaryError } from '../../../src/util/proc.ts';
import { waitFor } from '../../../src/util/wait.ts';

// A real Prometheus scraping a tiny exporter whose values the test controls.
let gauge = 42;
let requests = 0;
let server: http.Server;
let prom: PrometheusInstance;
let client: PromClient;
let dir: string;
const t0 = new Date();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-prom-'));
  server = http.createServer((req, res) => {
    if (req.url === '/gateway-metrics') {
      // Reference-gateway-shaped series: 10 req/s, all 2xx and under 50 ms (no 5xx series at
      // all), 10 acknowledged audit writes/s and no failures.
      const n = Math.floor(((Date.now() - t0.getTime()) / 1000) * 10);
      const h = 'openclaw_http_request_duration_seconds';
      const l = 'route="/tools/invoke",method="POST",status_class="2xx"';
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          `# TYPE ${h} histogram`,
          `${h}_bucket{${l},le="0.05"} ${n}`,
          `${h}_bucket{${l},le="0.5"} ${n}`,
          `${h}_bucket{${l},le="+Inf"} ${n}`,
          `${h}_sum{${l}} ${n * 0.03}`,
          `${h}_count{${l}} ${n}`,
          '# TYPE openclaw_audit_writes_total counter',
          `openclaw_audit_writes_total ${n}`,
          '# TYPE openclaw_audit_write_failures_total counter',
          'openclaw_audit_write_failures_total 0',
          '',
        ].join('\n'),
      );
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    requests += 5;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# TYPE cs_test_gauge gauge',
        `cs_test_gauge{kind="a"} ${gauge}`,
        `cs_test_gauge{kind="b"} ${gauge / 2}`,
        '# TYPE cs_test_requests_total counter',
        `cs_test_requests_total ${requests}`,
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  prom = await startPrometheus({
    dir,
    jobs: [
      { name: 'fake', targets: [`127.0.0.1:${port}`], labels: { az: 'a' } },
      { name: 'gateway', targets: [`127.0.0.1:${port}`], metricsPath: '/gateway-metrics' },
    ],
    detached: false,
  });
  client = new PromClient({ url: prom.url, timeoutMs: 5_000 });
  await waitForTargetsUp(prom.url, { jobs: ['fake', 'gateway'], timeoutMs: 20_000 });
}, 40_000);

afterAll(async () => {
  if (prom) await stopPrometheus(prom);
  await new Promise((r) => server?.close(r));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('prometheus launcher', () => {
  it('writes a config promtool accepts', async () => {
    const { execa } = await import('execa');
    const file = path.join(dir, 'check.yml');
    fs.writeFileSync(file, prometheusConfig({ jobs: [{ name: 'gw', targets: ['127.0.0.1:1'], metricsPath: '/m', bearerTokenFile: file, params: { x: ['1'] } }] }));
    const r = await execa('promtool', ['check', 'config', file], { reject: false });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('credentials_file');
  });

  it('blackbox probe jobs (per-target labels, relabelling) and recording rules pass promtool', async () => {
    const { execa } = await import('execa');
    const { writeRecordingRules, GATEWAY_UP } = await import('../../../src/testbed/rules.ts');
    const rules = writeRecordingRules(path.join(dir, 'rules.yml'), 'openclaw');
    const file = path.join(dir, 'blackbox.yml');
    fs.writeFileSync(
      file,
      prometheusConfig({
        ruleFiles: [rules],
        jobs: [
          {
            name: 'blackbox-healthz',
            targets: [],
            labelledTargets: [
              { target: 'http://127.0.0.1:1/healthz', labels: { gateway: 'gw-1', az: 'az-a' } },
              { target: 'http://127.0.0.1:2/healthz', labels: { gateway: 'gw-2', az: 'az-b' } },
            ],
            metricsPath: '/probe',
            params: { module: ['http_200'] },
            relabelConfigs: [
              { source_labels: ['__address__'], target_label: '__param_target' },
              { target_label: '__address__', replacement: '127.0.0.1:9115' },
            ],
          },
        ],
      }),
    );
    const r = await execa('promtool', ['check', 'config', file], { reject: false });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('1 rules found');
    const doc = fs.readFileSync(file, 'utf8');
    // One static config per gateway, each with its own labels; no empty target list.
    expect(doc.match(/gateway: gw-\d/g)).toEqual(['gateway: gw-1', 'gateway: gw-2']);
    expect(doc).not.toContain('targets: []');
    expect(fs.readFileSync(rules, 'utf8')).toContain(`record: ${GATEWAY_UP}`);
  });

  it('a missing binary is a MissingBinaryError naming the Debian package', async () => {
    const saved = process.env.PROMETHEUS_BIN;
    process.env.PROMETHEUS_BIN = path.join(dir, 'no-such-prometheus');
    try {
      const err = await startPrometheus({ dir: path.join(dir, 'never'), jobs: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingBinaryError);
      expect((err as MissingBinaryError).debianPackage).toBe('prometheus');
      expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.PROMETHEUS_BIN;
      else process.env.PROMETHEUS_BIN = saved;
    }
  });

  it('runs on loopback with its own tsdb dir', () => {
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(prom.args).toContain(`--storage.tsdb.path=${prom.dataDir}`);
    expect(fs.existsSync(prom.dataDir)).toBe(true);
    expect(isAlive(prom.pid)).toBe(true);
  });
});

describe('PromClient against a real Prometheus', () => {
  it('instant query returns the scraped value, with labels', async () => {
    const r = await client.instant('cs_test_gauge{kind="a"}');
    expect(r.type).toBe('vector');
    if (r.type !== 'vector') return;
    expect(r.series).toHaveLength(1);
    expect(r.series[0]!.v).toBe(42);
    expect(r.series[0]!.labels).toMatchObject({ job: 'fake', az: 'a', kind: 'a' });
  });

  it('sees a changed value, and a range query holds both values', async () => {
    gauge = 7;
    await waitFor(async () => {
      const r = await client.instant('cs_test_gauge{kind="a"}');
      return r.type === 'vector' && r.series[0]?.v === 7;
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'the new gauge value to be scraped' });
    const end = Date.now() / 1000;
    const series = await client.range('cs_test_gauge{kind="a"}', end - 30, end, 1);
    expect(series).toHaveLength(1);
    const values = new Set(series[0]!.points.map((p) => p.v));
    expect(values.has(42)).toBe(true);
    expect(values.has(7)).toBe(true);
  });

  it('scalar results and NaN/Inf sample values are numbers', async () => {
    const s = await client.instant('scalar(vector(1.5))');
    expect(s).toMatchObject({ type: 'scalar', v: 1.5 });
    const inf = await client.instant('vector(1) / 0');
    expect(inf.type === 'vector' && inf.series[0]!.v).toBe(Number.POSITIVE_INFINITY);
    const nan = await client.instant('vector(0) / 0');
    expect(nan.type === 'vector' && Number.isNaN(nan.series[0]!.v)).toBe(true);
  });

  it('an absent metric is an empty result, and a threshold on it is no_data', async () => {
    const r = await client.instant('cs_absent_metric_total');
    expect(r).toEqual({ type: 'vector', series: [] });
    const result = await evaluatePromThreshold(
      client,
      { name: 'absent', query: 'sum(rate(cs_absent_metric_total[$__rate_interval]))', op: '<', value: 1, mode: 'instant' },
      { start: t0, end: new Date(), scrapeIntervalSeconds: 1, settle: false },
    );
    expect(result.verdict).toBe('no_data');
    expect(result.observed).toBeNull();
    expect(result.query).toMatch(/\[\d+s\]/);
  });

  it('judges several series: each must pass, the worst is reported', async () => {
    const w = { start: t0, end: new Date(), scrapeIntervalSeconds: 1, settle: false };
    const pass = await evaluatePromThreshold(client, { name: 'g', query: 'cs_test_gauge', op: '<=', value: 7, mode: 'instant' }, w);
    expect(pass).toMatchObject({ verdict: 'pass', observed: 7 });
    const fail = await evaluatePromThreshold(client, { name: 'g', query: 'cs_test_gauge', op: '<', value: 5, mode: 'instant' }, w);
    expect(fail).toMatchObject({ verdict: 'fail', observed: 7 });
    expect(fail.detail).toContain('kind="a"');
  });

  it('a range threshold fails on consecutive failing windows over the real series', async () => {
    // Enough history for three 2 s windows of a 4 s rate.
    await waitFor(async () => {
      const end = Date.now() / 1000;
      const s = await client.range('rate(cs_test_requests_total[4s])', end - 20, end, 2);
      return (s[0]?.points.filter((p) => Number.isFinite(p.v)).length ?? 0) >= 4;
    }, { timeoutMs: 20_000, intervalMs: 500, what: 'rate history' });
    const w = { start: new Date(Date.now() - 20_000), end: new Date(), scrapeIntervalSeconds: 1, settle: false };
    const pass = await evaluatePromThreshold(client, { name: 'rate', query: 'sum(rate(cs_test_requests_total[$__rate_interval]))', op: '<', value: 1000, mode: 'range', window: { step: 2, consecutive: 3 } }, w);
    expect(pass.verdict, pass.detail).toBe('pass');
    const r = await evaluatePromThreshold(client, { name: 'rate', query: 'sum(rate(cs_test_requests_total[$__rate_interval]))', op: '<', value: 1, mode: 'range', window: { step: 2, consecutive: 3 } }, w);
    expect(r.verdict, r.detail).toBe('fail');
    expect(r.observed).toBeGreaterThan(1);
    expect(r.detail).toMatch(/longest run of failing 2s windows \d+/);
  });

  it('default metric rows score reference-gateway series: zero 5xx is 0%, not no data', async () => {
    const pick = (m: string) => DEFAULT_METRICS.find((r) => r.metric === m)!;
    const rows = await evaluateMetricRows(
      client,
      ['Error rate', 'P95 response time', 'Audit entry completeness', 'Request throughput (req/s)'].map(pick),
      // settle: the instant window reaches two scrapes past the end, so wait for them to exist.
      { start: t0, end: new Date(), scrapeIntervalSeconds: 1, settle: true },
    );
    const [errorRate, p95, audit, throughput] = rows;
    expect(errorRate, errorRate!.detail).toMatchObject({ verdict: 'pass', observed: 0 });
    expect(p95!.verdict, p95!.detail).toBe('pass');
    expect(p95!.observed).toBeGreaterThan(0);
    expect(p95!.observed).toBeLessThanOrEqual(0.05);
    expect(audit, audit!.detail).toMatchObject({ verdict: 'pass', observed: 1 });
    // ~10 req/s against a target of > 1,000 req/s.
    expect(throughput!.verdict).toBe('fail');
    expect(throughput!.observed).toBeGreaterThan(5);
    expect(throughput!.observed).toBeLessThan(15);
  });

  it('a PromQL error is a query error naming the query', async () => {
    const err = await client.instant('rate(cs_test_gauge)').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromError);
    expect((err as PromError).kind).toBe('query');
    expect((err as PromError).message).toContain('rate(cs_test_gauge)');
    expect((err as PromError).message).toContain(prom.url);
  });

  it('targets() reports the scrape target up', async () => {
    const ts = await client.targets();
    expect(ts.find((t) => t.scrapePool === 'fake')?.health).toBe('up');
    expect(ts.find((t) => t.scrapePool === 'gateway')?.scrapeUrl).toMatch(/\/gateway-metrics$/);
  });

  it('every default metric row is PromQL that Prometheus accepts (empty, so no data)', async () => {
    for (const row of DEFAULT_METRICS) {
      const q = substitutePlaceholders(row.query, { range: 10, interval: 10, rateInterval: 10 });
      await expect(client.instant(q), row.metric).resolves.toBeDefined();
    }
    // Nothing of the policy sidecar or node_exporter is scraped here: those rows are no data.
    const absent = DEFAULT_METRICS.filter((r) => r.metric.startsWith('OPA') || r.metric === 'Host CPU utilization');
    const rows = await evaluateMetricRows(client, absent, { start: t0, end: new Date(), scrapeIntervalSeconds: 1, settle: false });
    expect(rows.map((r) => r.verdict)).toEqual(absent.map(() => 'no_data'));
  });

  it('a stopped Prometheus is unreachable, and scoring ends in no data (exit 3)', async () => {
    await stopPrometheus(prom);
    const err = await client.instant('up').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromError);
    expect((err as PromError).kind).toBe('unreachable');
    expect((err as PromError).message).toContain(prom.url);
    const r = await evaluatePromThreshold(client, { name: 'up', query: 'up', op: '==', value: 1, mode: 'instant' }, { start: t0, end: new Date(), scrapeIntervalSeconds: 1, settle: false });
    expect(r.verdict).toBe('no_data');
    expect(r.detail).toMatch(/unreachable/);
    expect(overallVerdict({ thresholds: [r] }).exitCode).toBe(3);
  });
});
