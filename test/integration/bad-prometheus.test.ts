// A Prometheus that answers badly never loses a run: against the shared bed, with the target
// profile's Prometheus pointed at a fault injector that gives one kind of bad answer to every
// query, `clawstorm run` still writes every report, keeps the client-side figures, and reports
// each figure, PromQL threshold and metric row it could not score as no data with the reason.
// The exit code follows the verdict rules: 3, unless a measured failure exists (a quantile that
// answered +Inf is one: beyond the largest bucket).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { readResults } from '../../src/report/results.ts';
import { BAD_ANSWERS, startPrometheusDouble, type BadAnswer } from '../support/prometheus-double.ts';

const tb = inject('testbed');
const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-badprom-it-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const QUANTILE = 'histogram_quantile(0.95, sum by (le) (rate(openclaw_http_request_duration_seconds_bucket{job="gateway"}[$__rate_interval])))';

function writeProfile(promUrl: string): string {
  const file = path.join(work, `profile-${path.basename(promUrl).replace(/\W/g, '')}-${Math.random().toString(36).slice(2, 7)}.yaml`);
  const profile = {
    name: 'bad-prometheus',
    gateways: tb.gateways.map((g) => ({ name: g.id, url: g.url, az: g.az })),
    lb: tb.lb.url,
    prometheus: { url: promUrl, scrapeInterval: '1s', timeout: '2s' },
    tokens: Object.fromEntries(Object.entries(tb.tokenFiles).map(([k, f]) => [k, { file: f }])),
    metrics: [
      { group: 'application', metric: 'P95 response time', query: QUANTILE, unit: 's', target: { op: '<', value: 5 }, alert: { op: '>', value: 10 } },
      {
        group: 'application',
        metric: 'Error rate',
        query: '(sum(rate(openclaw_http_request_duration_seconds_count{job="gateway",status_class="5xx"}[$__rate_interval])) or vector(0)) / sum(rate(openclaw_http_request_duration_seconds_count{job="gateway"}[$__rate_interval]))',
        unit: 'ratio',
        target: { op: '<', value: 0.001 },
        alert: { op: '>', value: 0.01 },
      },
    ],
  };
  fs.writeFileSync(file, YAML.stringify(profile));
  return file;
}

const SCENARIO = path.join(work, 'short-calls.yaml');
fs.writeFileSync(
  SCENARIO,
  YAML.stringify({
    name: 'short-calls',
    title: 'Short Calls',
    profiles: { smoke: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '3s', preAllocatedVUs: 10, maxVUs: 50, gracefulStop: '10s' } },
    journeys: [{ name: 'call', steps: [{ name: 'sessions_list', tool: 'sessions_list', args: { user_id: '{{user}}' }, timeout: '10s' }] }],
    // Client limits that leave room on a busy machine: this test is about Prometheus's answers.
    thresholds: [
      { name: 'client p95 < 5 s', metric: 'latency', expr: 'p(95)<5000ms' },
      { name: 'client errors < 50%', metric: 'errors', expr: 'rate<0.5' },
    ],
    promql: [
      { name: 'gateway p95 < 5 s', query: QUANTILE, op: '<', value: 5, unit: 's' },
      { name: 'calls stay under 1e9 per window', query: 'sum(rate(openclaw_tool_invocations_total{job="gateway"}[$__interval]))', op: '<', value: 1e9, mode: 'range', window: { step: '1s', consecutive: 2 } },
    ],
    figures: [{ name: 'tool_calls', query: 'sum(openclaw_tool_invocations_total{job="gateway"})', mode: 'delta' }],
  }),
);

/** What each bad answer must be reported as (the reason's words). */
const REASON: Record<BadAnswer, RegExp> = {
  nan: /NaN/,
  '+inf': /\+Inf/,
  '-inf': /-Inf/,
  'wrong-type': /matrix|resultType vector/,
  'too-many-series': /10001 series/,
  'error-status': /too many samples/,
  partial: /partial response/,
  late: /no answer within 2000 ms/,
  'html-404': /HTTP 404/,
  truncated: /non-JSON body/,
  'string-result': /string/,
};

describe('a Prometheus that answers badly: the run is written, its client figures kept, the rows no data with the reason', () => {
  for (const kind of BAD_ANSWERS) {
    it(kind, async () => {
      const prom = await startPrometheusDouble(kind);
      const out = path.join(work, `out-${kind}`);
      try {
        const r = await execa(CLI, ['run', SCENARIO, '--profile', 'smoke', '--target', writeProfile(prom.url), '--out', out], { env: { CI: 'true' }, reject: false, timeout: 150_000, cwd: work });
        const why = `exit ${r.exitCode}\n--- stderr ---\n${r.stderr.slice(-3000)}`;
        for (const f of ['results.json', 'results.md', 'junit.xml', 'report.html']) expect(fs.existsSync(path.join(out, f)), `${f} missing; ${why}`).toBe(true);
        const res = readResults(path.join(out, 'results.json'));
        const s = res.scenarios.find((x) => x.name === 'short-calls')!;
        // The run's own measurements are all there.
        expect(s.requests, why).toBeGreaterThan(20);
        expect(s.p95, why).not.toBeNull();
        // Client thresholds were measured (a busy shared machine may mark them not trusted, never no data).
        for (const t of s.thresholds.filter((x) => x.source === 'client')) {
          expect(t.observed, `${t.name}: ${t.detail}`).not.toBeNull();
          if (t.verdict !== 'pass') expect(t.detail, `${t.name}: ${t.verdict}`).toMatch(/^load generator saturated \(measured pass\)/);
        }
        expect(prom.queries, 'the double was never asked').toBeGreaterThan(0);
        // What Prometheus could not give a number for says why.
        expect(s.extra.tool_calls, why).toBeNull();
        expect(s.noData.tool_calls, JSON.stringify(s.noData)).toMatch(REASON[kind]);
        const promql = s.thresholds.filter((x) => x.source === 'promql');
        const quantile = promql.find((x) => x.name === 'gateway p95 < 5 s')!;
        if (kind === '+inf') {
          // histogram_quantile answering +Inf: beyond the largest bucket, a measured failure.
          expect(quantile.verdict, quantile.detail).toBe('fail');
          expect(r.exitCode, why).toBe(1);
        } else {
          expect(['no_data', 'inconclusive'], `${quantile.verdict}: ${quantile.detail}`).toContain(quantile.verdict);
          expect(quantile.detail).toMatch(REASON[kind]);
          expect(r.exitCode, why).toBe(3);
        }
        const errorRow = res.metrics.find((m) => m.metric === 'Error rate')!;
        expect(['no_data', 'inconclusive'], `${errorRow.verdict}: ${errorRow.detail}`).toContain(errorRow.verdict);
        expect(res.reasons.join('; '), why).not.toMatch(/Invalid input/);
        expect(r.stderr).not.toMatch(/results \(in memory\)/);
      } finally {
        await prom.close();
      }
    });
  }
});

describe('credentials in the Prometheus URL never reach a stream or a file', () => {
  const PASS = 'Pa55-w0rd-Zq9';
  const KEY = 'ak-7Hc2-Lm4x';
  const basic = Buffer.from(`admin:${PASS}`).toString('base64');
  const leaks = (text: string) => [PASS, KEY, basic].filter((s) => text.includes(s));

  function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  }

  it('a run against a Prometheus that needs them: sent as Basic auth and query parameter, redacted in every output', async () => {
    const prom = await startPrometheusDouble('nan');
    const out = path.join(work, 'out-secrets');
    try {
      const url = `http://admin:${PASS}@${new URL(prom.url).host}/?api_key=${KEY}`;
      const r = await execa(CLI, ['run', SCENARIO, '--profile', 'smoke', '--target', writeProfile(url), '--out', out], { env: { CI: 'true' }, reject: false, timeout: 150_000, cwd: work });
      // The credentials went where they belong …
      expect(prom.requests.length).toBeGreaterThan(0);
      for (const q of prom.requests) {
        expect(q.authorization).toBe(`Basic ${basic}`);
        expect(q.url).toContain(`api_key=${KEY}`);
        expect(q.url).toMatch(/^\/api\/v1\/query(_range)?\?/);
      }
      // … and nowhere else.
      expect(leaks(r.stdout), 'stdout').toEqual([]);
      expect(leaks(r.stderr), 'stderr').toEqual([]);
      const files = filesUnder(out);
      expect(files.length).toBeGreaterThanOrEqual(4);
      for (const f of files) expect(leaks(fs.readFileSync(f, 'utf8')), f).toEqual([]);
      expect(r.exitCode, r.stderr.slice(-2000)).toBe(3);
    } finally {
      await prom.close();
    }
  });

  it('a run against an unreachable one: one line naming it, without its credentials (exit 3)', async () => {
    const out = path.join(work, 'out-secrets-unreachable');
    const r = await execa(CLI, ['run', SCENARIO, '--profile', 'smoke', '--target', writeProfile(`http://admin:${PASS}@127.0.0.1:2/?api_key=${KEY}`), '--out', out], { env: { CI: 'true' }, reject: false, timeout: 60_000, cwd: work });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Prometheus at http:\/\/127\.0\.0\.1:2 is not answering/);
    expect(leaks(r.stdout + r.stderr)).toEqual([]);
    for (const f of filesUnder(out)) expect(leaks(fs.readFileSync(f, 'utf8')), f).toEqual([]);
  });
});
