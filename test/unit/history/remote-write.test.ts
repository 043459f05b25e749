// A run's figures as remote-write samples: what the trends dashboard reads, pushed to a local
// receiver on 127.0.0.1 and decoded with the library's own protobuf (snappy-compressed body).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deserialize } from 'prometheus-remote-write';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { remoteWriteRun, runSeries } from '../../../src/history/remote-write.ts';
import { parseResults } from '../../../src/report/results.ts';
import { storedRun } from '../baseline/runs.ts';

// The compression prometheus-remote-write itself uses (its own dependency), to read the body back.
const requireFromLib = createRequire(createRequire(import.meta.url).resolve('prometheus-remote-write'));
const SnappyJS = requireFromLib('snappyjs') as { uncompress(b: Uint8Array): Uint8Array };

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('remote write of a run', () => {
  const r = parseResults(storedRun('n1', 1));

  it('per scenario P50/P95/P99, error ratio, throughput and regressions; the verdict as a state set; no run id label', () => {
    const series = runSeries(r, 'build-7');
    const names = series.map((s) => `${s.labels.__name__}${s.labels.quantile ? `{${s.labels.quantile}}` : ''}${s.labels.verdict ? `{${s.labels.verdict}}` : ''}`);
    expect(names).toEqual([
      'clawstorm_run_latency_ms{0.5}',
      'clawstorm_run_latency_ms{0.95}',
      'clawstorm_run_latency_ms{0.99}',
      'clawstorm_run_error_ratio',
      'clawstorm_run_throughput_rps',
      'clawstorm_run_regressions',
      'clawstorm_run_verdict{pass}',
      'clawstorm_run_verdict{fail}',
      'clawstorm_run_verdict{inconclusive}',
      'clawstorm_run_verdict{no_data}',
      'clawstorm_run_exit_code',
    ]);
    const p99 = series[2]!;
    expect(p99.labels).toEqual({ __name__: 'clawstorm_run_latency_ms', profile: 'smoke', target: 'local', build: 'build-7', scenario: 'policy-evaluation', quantile: '0.99' });
    expect(p99.samples).toEqual([{ value: r.scenarios[0]!.p99, timestamp: Date.parse(r.endedAt) }]);
    expect(series.find((s) => s.labels.verdict === 'pass')!.samples[0]!.value).toBe(1);
    expect(series.every((s) => !('run_id' in s.labels))).toBe(true);
  });

  it('pushes snappy-compressed protobuf a receiver decodes; a receiver that is down is an error returned, not thrown', async () => {
    const bodies: Buffer[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        res.writeHead(204).end();
      });
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
    const res = await remoteWriteRun(url, r, null);
    expect(res).toEqual({ series: 11, error: null });
    const decoded = (await deserialize(SnappyJS.uncompress(new Uint8Array(bodies[0]!)) as unknown as ArrayBuffer)) as unknown as { timeseries: Array<{ labels: Array<{ name: string; value: string }> }> };
    const names = decoded.timeseries.map((t) => t.labels.find((l) => l.name === '__name__')?.value);
    expect(names).toContain('clawstorm_run_latency_ms');
    expect(names).toContain('clawstorm_run_verdict');
    const down = await remoteWriteRun('http://127.0.0.1:9/api/v1/write', r, null);
    expect(down.error).toBeTruthy();
  });
});
