// A fault injector for Prometheus's HTTP API: it answers every query with one kind of bad answer,
// so tests can check that ClawStorm keeps a run's own measurements and reports each figure,
// threshold and metric row it cannot score as no data, with the reason. Not a stand-in: the
// scoring against the real Prometheus is tested against the real one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BAD_ANSWERS = ['nan', '+inf', '-inf', 'wrong-type', 'too-many-series', 'error-status', 'partial', 'late', 'html-404', 'truncated', 'string-result'] as const;
export type BadAnswer = (typeof BAD_ANSWERS)[number];

export interface PrometheusDouble {
  url: string;
  /** Queries received (instant and range), for asserting that scoring asked at all. */
  queries: number;
  /** Every request's URL (path and query) and Authorization header. */
  requests: Array<{ url: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

const now = () => Date.now() / 1000;

function vector(value: string, n = 1): unknown {
  return { resultType: 'vector', result: Array.from({ length: n }, (_, i) => ({ metric: { instance: `i${i}` }, value: [now(), value] })) };
}

function matrix(value: string): unknown {
  const t = now();
  return { resultType: 'matrix', result: [{ metric: { instance: 'i0' }, values: [[t - 10, value], [t - 5, value], [t, value]] }] };
}

function answer(kind: BadAnswer, range: boolean): { status: number; body: string; delayMs?: number } {
  const ok = (data: unknown, extra: object = {}) => ({ status: 200, body: JSON.stringify({ status: 'success', data, ...extra }) });
  switch (kind) {
    case 'nan':
    case '+inf':
    case '-inf': {
      const v = kind === 'nan' ? 'NaN' : kind === '+inf' ? '+Inf' : '-Inf';
      return ok(range ? matrix(v) : vector(v));
    }
    case 'wrong-type':
      return ok(range ? vector('1') : matrix('1'));
    case 'too-many-series':
      return ok(range ? { resultType: 'matrix', result: Array.from({ length: 10_001 }, (_, i) => ({ metric: { i: String(i) }, values: [[now(), '1']] })) } : vector('1', 10_001));
    case 'error-status':
      return { status: 422, body: JSON.stringify({ status: 'error', errorType: 'execution', error: 'query processing would load too many samples into memory' }) };
    case 'partial':
      return ok(range ? matrix('1') : { resultType: 'vector', result: [{ metric: { instance: 'i0' }, value: [now(), '0'] }, { metric: { instance: 'i1' }, value: [now(), 'NaN'] }] }, { warnings: ['partial response: store gateway unavailable'] });
    case 'late':
      return { ...ok(range ? matrix('0.01') : vector('0.01')), delayMs: 3_000 };
    case 'html-404':
      return { status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>' };
    case 'truncated':
      return { status: 200, body: '{"status":"success","data":{"resultType":"vector","res' };
    case 'string-result':
      return ok({ resultType: 'string', result: [now(), 'hello'] });
  }
}

export async function startPrometheusDouble(kind: BadAnswer): Promise<PrometheusDouble> {
  const timers = new Set<NodeJS.Timeout>();
  const state = { queries: 0 };
  const requests: PrometheusDouble['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => {
      // A path prefix (a Prometheus behind a proxy at /prometheus) is accepted.
      const path = ((req.url ?? '').split('?')[0] ?? '').replace(/^\/[^/]+(?=\/api\/)/, '');
      if (path !== '/api/v1/query' && path !== '/api/v1/query_range') {
        res.writeHead(404).end('not found');
        return;
      }
      state.queries += 1;
      const a = answer(kind, path.endsWith('_range'));
      const send = () => {
        if (!res.destroyed) res.writeHead(a.status, { 'content-type': a.body.startsWith('<') ? 'text/html' : 'application/json' }).end(a.body);
      };
      if (a.delayMs === undefined) send();
      else {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get queries() {
      return state.queries;
    },
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
