// A fake target for the drill step tests: in-process gateways (node:http) with the admin surface
// the steps use and the state behind it, a notifier, an optional real HAProxy in front of them,
// a scripted Prometheus, and fault commands that write what they did to a file. Every request is
// recorded, so a test asserts what a step changed, how it was journalled and that rollback put it
// back. Bodies are checked with the reference fleet's own schemas, so the fake refuses what a
// real gateway or notifier would.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { diskGates, KEDA_LANE, PROBE_PATH, PROBE_SCHEMA_VERSION, type ProbeResponse } from '../../../../contract/probe.ts';
import { FaultPatchSchema, TokensSchema } from '../../../../harness/gateway/faults.ts';
import { AdmissionSchema, DEFAULT_ADMISSION } from '../../../../harness/gateway/hooks.ts';
import { startHaproxy, stopHaproxy, type HaproxyInstance } from '../../../../harness/launch/haproxy.ts';
import { ConfigPatchSchema, EventsBodySchema } from '../../../../harness/notifier/config.ts';
import { StepSchema, actionOf, kindOf, type Step } from '../../../../src/chaos/steps/index.ts';
import type { DrillTokens, Figure, StepContext } from '../../../../src/chaos/steps/step.ts';
import type { DrillLoad } from '../../../../src/chaos/load.ts';
import { parseTargetProfile, type Gateway } from '../../../../src/config/profile.ts';
import type { FaultPatch } from '../../../../src/faults/actions.ts';
import { Journal, type JournalEntry } from '../../../../src/faults/journal.ts';
import { PromClient } from '../../../../src/prom/client.ts';
import type { ThresholdResult } from '../../../../src/score/types.ts';
import { chaosTargetFrom, tokenOf, type ChaosTarget } from '../../../../src/target/target.ts';
import { registerSecret } from '../../../../src/util/redact.ts';
import { sleep as sleepFor } from '../../../../src/util/sleep.ts';

/** Token values by name, as a bound target holds them (the gateway tokens fit the gateway's 16–512 rule). */
export const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  gateway: 'primary-token-0123456789abcdef',
  probe: 'probe-token-0123456789abcdef',
  secondary: 'secondary-token-0123456789abcdef',
  hook: 'hook-token-0123456789abcdef',
} as const;
for (const v of Object.values(TOKENS)) registerSecret(v);

// ── recorded calls ───────────────────────────────────────────────────────────

export interface FakeCall {
  /** `gw-1`, `notifier`. */
  to: string;
  method: string;
  path: string;
  /** `PUT /admin/faults` (no query). */
  route: string;
  body: unknown;
  auth: string | undefined;
  headers: http.IncomingHttpHeaders;
  /** The client's source address. */
  from: string | undefined;
  /** States of the journal's entries when the call arrived (write-ahead: the intent is on disk first). */
  journal: string[] | undefined;
}

interface Answer {
  status: number;
  body?: unknown;
}

type Handler = (req: { method: string; route: string; body: unknown; bearer: string | undefined; headers: http.IncomingHttpHeaders }) => Answer;

async function listen(name: string, fleet: { record(c: Omit<FakeCall, 'journal'>): void; refusal(to: string, route: string): number | undefined }, handler: Handler): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      let body: unknown;
      try {
        body = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        body = text;
      }
      const method = req.method ?? '';
      const p = req.url ?? '';
      const route = `${method} ${p.split('?')[0]}`;
      const auth = req.headers.authorization;
      fleet.record({ to: name, method, path: p, route, body, auth, headers: req.headers, from: req.socket.remoteAddress });
      const refused = fleet.refusal(name, route);
      const a: Answer = refused !== undefined ? { status: refused, body: { error: 'REFUSED', message: `refused by the test (${route})` } } : handler({ method, route, body, bearer: /^Bearer\s+(.+)$/i.exec(auth ?? '')?.[1], headers: req.headers });
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const unauthorized: Answer = { status: 401, body: { error: 'UNAUTHORIZED', message: 'missing or invalid bearer token' } };

// ── gateways ─────────────────────────────────────────────────────────────────

export interface GatewayState {
  /** The six fault controls the steps read and set. */
  faults: Required<FaultPatch>;
  /** Accepted gateway bearer tokens. */
  tokens: string[];
  hooks: z.infer<typeof AdmissionSchema>;
}

export interface FakeGatewayOptions {
  name: string;
  az?: string;
  /** Sizes the disk gates the probe reports (1 TB tier by default). */
  capacityBytes?: number;
  /** Fault commands of the profile (stop, start …). */
  faults?: Gateway['faults'];
  /** Where the profile says the composite probe is. */
  probePath?: string;
}

export class FakeGateway {
  readonly name: string;
  readonly az: string;
  readonly options: FakeGatewayOptions;
  url = '';
  port = 0;
  state: GatewayState;
  /** How the composite probe misbehaves when a test asks it to. */
  probe: { detail: boolean; offContract: boolean; diskOk: boolean | undefined } = { detail: true, offContract: false, diskOk: undefined };

  constructor(o: FakeGatewayOptions) {
    this.name = o.name;
    this.az = o.az ?? 'az-a';
    this.options = o;
    this.state = FakeGateway.initial();
  }

  static initial(): GatewayState {
    return {
      faults: { latencyMs: 0, errorRate: 0, diskUsedRatio: 0.42, degraded: false, skillHash: 'sha256:0a1b2c3d', draining: false, keysInMemory: false },
      tokens: [TOKENS.gateway],
      hooks: { ...DEFAULT_ADMISSION },
    };
  }

  get gates(): { yellow: number; red: number } {
    return diskGates(this.options.capacityBytes ?? 1e12);
  }

  /** The composite probe as the reference gateway computes it (plan §5). */
  compositeProbe(): ProbeResponse | Record<string, unknown> {
    if (this.probe.offContract) return { status: 'fine', degraded: 'no' };
    const f = this.state.faults;
    const g = this.gates;
    const degraded = f.degraded || f.diskUsedRatio >= g.red;
    return {
      status: degraded ? 'degraded' : 'healthy',
      keda: KEDA_LANE,
      canary: { '5xx_rate': 0, p99_ms: 12 },
      gateway: { disk_ok: this.probe.diskOk ?? f.diskUsedRatio < g.yellow, queue_depth: 0, skill_hash: f.skillHash },
      degraded,
      ...(this.probe.detail ? { detail: { schema_version: PROBE_SCHEMA_VERSION, gateway_id: this.name, az: this.az, draining: f.draining, disk_used_ratio: f.diskUsedRatio, disk_gates: g } } : {}),
    };
  }

  /** Idempotency keys this gateway answered, with the run each started (per gateway: not shared). */
  readonly runs = new Map<string, string>();

  handle: Handler = ({ route, body, bearer, headers }) => {
    const admin = bearer === TOKENS.admin;
    if (route === 'POST /hooks/agent') {
      if (bearer !== TOKENS.hook) return unauthorized;
      const key = String(headers['idempotency-key'] ?? '');
      const runId = this.runs.get(key) ?? `${this.name}-run-${this.runs.size + 1}`;
      this.runs.set(key, runId);
      return { status: 200, body: { ok: true, runId } };
    }
    const bad = (e: z.ZodError): Answer => ({ status: 400, body: { error: 'BAD_REQUEST', message: e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') } });
    switch (route) {
      case 'GET /admin/faults':
        return admin ? { status: 200, body: this.state.faults } : unauthorized;
      case 'PUT /admin/faults': {
        if (!admin) return unauthorized;
        const p = FaultPatchSchema.safeParse(body ?? {});
        if (!p.success) return bad(p.error);
        const { auditDropRate: _ignored, ...patch } = p.data;
        Object.assign(this.state.faults, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
        return { status: 200, body: this.state.faults };
      }
      case 'PUT /admin/tokens': {
        if (!admin) return unauthorized;
        const p = TokensSchema.safeParse(body ?? {});
        if (!p.success) return bad(p.error);
        this.state.tokens = [...new Set(p.data.gateway)];
        return { status: 200, body: { ok: true, gatewayTokens: this.state.tokens.length } };
      }
      case 'GET /admin/hooks':
        return admin ? { status: 200, body: { ...this.state.hooks, inFlight: 0 } } : unauthorized;
      case 'PUT /admin/hooks': {
        if (!admin) return unauthorized;
        const p = AdmissionSchema.partial().safeParse(body ?? {});
        if (!p.success) return bad(p.error);
        Object.assign(this.state.hooks, Object.fromEntries(Object.entries(p.data).filter(([, v]) => v !== undefined)));
        return { status: 200, body: { ...this.state.hooks, inFlight: 0 } };
      }
    }
    const probePaths = [PROBE_PATH, ...(this.options.probePath ? [this.options.probePath] : [])];
    if (route.startsWith('GET ') && probePaths.includes(route.slice(4))) {
      if (bearer !== TOKENS.probe) return unauthorized;
      // 503 only while draining: what takes a gateway out of the load balancer.
      return { status: this.state.faults.draining ? 503 : 200, body: this.compositeProbe() };
    }
    // Any other path is work: answered by the bearer the gateway accepts.
    if (bearer === undefined || !this.state.tokens.includes(bearer)) return unauthorized;
    return { status: 200, body: { ok: true, gateway: this.name } };
  };
}

// ── notifier ─────────────────────────────────────────────────────────────────

export interface NotifierEventIn {
  status: number | string;
  correlationId: string;
  gateway: string;
  az: string;
  detail?: string | undefined;
}

export class FakeNotifier {
  url = '';
  /** Events received and not yet flushed. */
  window: NotifierEventIn[] = [];
  digests: Array<{ id: number; published: boolean; total: number; statuses: Array<{ status: number | string; count: number; gateways: Record<string, number> }>; summary: string }> = [];
  /** False: the sink is down; digests are made but not published. */
  publishes = true;
  settings: { windowMs: number; sink: Record<string, unknown> } = { windowMs: 300_000, sink: { kind: 'file', path: '/dev/null' } };

  handle: Handler = ({ route, body, bearer }) => {
    switch (route) {
      case 'POST /events': {
        const p = EventsBodySchema.safeParse(body);
        if (!p.success) return { status: 400, body: { error: 'BAD_REQUEST', message: z.prettifyError(p.error) } };
        const events = 'events' in p.data ? p.data.events : [p.data];
        this.window.push(...events.map((e) => ({ status: e.status, correlationId: e.correlationId, gateway: e.gateway, az: e.az, detail: e.detail })));
        return { status: 202, body: { accepted: events.length, fallback: 0, duplicates: 0 } };
      }
      case 'POST /flush': {
        if (bearer !== TOKENS.admin) return unauthorized;
        if (this.window.length === 0) return { status: 200, body: { digest: null } };
        const by = new Map<string, { status: number | string; count: number; gateways: Record<string, number> }>();
        for (const e of this.window) {
          const b = by.get(String(e.status)) ?? { status: e.status, count: 0, gateways: {} };
          b.count += 1;
          b.gateways[e.gateway] = (b.gateways[e.gateway] ?? 0) + 1;
          by.set(String(e.status), b);
        }
        const statuses = [...by.values()];
        const digest = { id: this.digests.length + 1, published: this.publishes, total: this.window.length, statuses, summary: statuses.map((s) => `${s.count}× ${s.status}`).join(', ') };
        this.digests.push(digest);
        this.window = [];
        return { status: 200, body: { digest } };
      }
      case 'GET /admin/config':
        return bearer === TOKENS.admin ? { status: 200, body: this.settings } : unauthorized;
      case 'PUT /admin/config': {
        if (bearer !== TOKENS.admin) return unauthorized;
        const p = ConfigPatchSchema.safeParse(body ?? {});
        if (!p.success) return { status: 400, body: { error: 'BAD_REQUEST', message: z.prettifyError(p.error) } };
        if (p.data.windowMs !== undefined) this.settings.windowMs = p.data.windowMs;
        if (p.data.sink !== undefined) this.settings.sink = p.data.sink;
        return { status: 200, body: this.settings };
      }
    }
    return { status: 404, body: { error: 'NOT_FOUND' } };
  };
}

// ── the fleet ────────────────────────────────────────────────────────────────

export interface Fleet {
  /** Owned by this fleet: the journal, command logs, HAProxy's files. */
  dir: string;
  /** Where stepContext() writes the journal (fault commands read it too). */
  journalFile: string;
  gateways: FakeGateway[];
  notifier: FakeNotifier;
  calls: FakeCall[];
  gw(name: string): FakeGateway;
  /** Calls to one endpoint, optionally of one route (`PUT /admin/faults`). */
  callsTo(to: string, route?: string): FakeCall[];
  /** The next `times` calls of `route` to `to` get `status`. */
  refuse(to: string, route: string, status: number, times?: number): void;
  /** Every gateway's state, deep-copied: what rollback must give back. */
  snapshot(): Record<string, GatewayState>;
  /** Back to the initial state, no calls, no refusals (between tests). */
  reset(): void;
  close(): Promise<void>;
}

/** tmpfs when there is one: the journal fsyncs every entry, which costs ~20 ms a write on a disk. */
function scratchRoot(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

export async function startFleet(opts: { gateways?: FakeGatewayOptions[] } = {}): Promise<Fleet> {
  const gateways = (opts.gateways ?? [{ name: 'gw-1', az: 'az-a' }, { name: 'gw-2', az: 'az-b' }]).map((o) => new FakeGateway(o));
  const notifier = new FakeNotifier();
  const dir = fs.mkdtempSync(path.join(scratchRoot(), 'cs-steps-'));
  const journalFile = path.join(dir, 'journal.json');
  const calls: FakeCall[] = [];
  const refusals: Array<{ to: string; route: string; status: number; left: number }> = [];
  const servers: http.Server[] = [];
  const sink = {
    record(c: Omit<FakeCall, 'journal'>): void {
      let states: string[] | undefined;
      try {
        states = (JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: JournalEntry[] }).entries.map((e) => e.state);
      } catch {
        states = undefined;
      }
      calls.push({ ...c, journal: states });
    },
    refusal(to: string, route: string): number | undefined {
      const r = refusals.find((x) => x.to === to && x.route === route && x.left > 0);
      if (r === undefined) return undefined;
      r.left -= 1;
      return r.status;
    },
  };
  for (const g of gateways) {
    const s = await listen(g.name, sink, (req) => g.handle(req));
    servers.push(s.server);
    g.url = s.url;
    g.port = Number(new URL(s.url).port);
  }
  const n = await listen('notifier', sink, (req) => notifier.handle(req));
  servers.push(n.server);
  notifier.url = n.url;
  const byName = (name: string) => {
    const g = gateways.find((x) => x.name === name);
    if (g === undefined) throw new Error(`fake fleet: no gateway ${name}`);
    return g;
  };
  return {
    dir,
    journalFile,
    gateways,
    notifier,
    calls,
    gw: byName,
    callsTo: (to, route) => calls.filter((c) => c.to === to && (route === undefined || c.route === route)),
    refuse: (to, route, status, times = 1) => void refusals.push({ to, route, status, left: times }),
    snapshot: () => Object.fromEntries(gateways.map((g) => [g.name, structuredClone(g.state)])),
    reset() {
      for (const g of gateways) {
        g.state = FakeGateway.initial();
        g.probe = { detail: true, offContract: false, diskOk: undefined };
      }
      notifier.window = [];
      notifier.digests = [];
      notifier.publishes = true;
      calls.length = 0;
      refusals.length = 0;
      fs.rmSync(journalFile, { force: true });
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ── the target ───────────────────────────────────────────────────────────────

export interface FakeTargetOptions {
  /** HAProxy in front of the fake gateways (startFakeLb): runtime API and load-balancer URL. */
  lb?: HaproxyInstance;
  prom?: { url: string };
  /** Default true: the target has the fleet's notifier. */
  notifier?: boolean;
}

/**
 * A profile target (validated by the profile schema, as a real one is) whose gateways are the
 * fake fleet's; the load balancer is HAProxy when given, else the first gateway.
 */
export function fakeTarget(fleet: Fleet, o: FakeTargetOptions = {}): ChaosTarget {
  const file = path.join(fleet.dir, 'target.yaml');
  const profile = parseTargetProfile(
    JSON.stringify({
      name: 'fake',
      allowChaos: true,
      lb: o.lb?.url ?? fleet.gateways[0]!.url,
      prometheus: { url: o.prom?.url ?? 'http://127.0.0.1:9' },
      tokens: Object.fromEntries(Object.keys(TOKENS).map((k) => [k, { env: `FAKE_${k.toUpperCase()}` }])),
      gateways: fleet.gateways.map((g) => ({ name: g.name, url: g.url, az: g.az, ...(g.options.faults ? { faults: g.options.faults } : {}), ...(g.options.probePath ? { probePath: g.options.probePath } : {}) })),
    }),
    file,
  );
  const t = chaosTargetFrom({ profile, tokens: { ...TOKENS }, testbed: undefined });
  return {
    ...t,
    // A scripted Prometheus answers fast; no Prometheus at all is a case of its own.
    prom: o.prom ? new PromClient({ url: o.prom.url, timeoutMs: 2_000 }) : undefined,
    promUrl: o.prom?.url,
    haproxy: o.lb ? { socket: o.lb.socket, backend: o.lb.backend } : undefined,
    notifierUrl: o.notifier === false ? undefined : fleet.notifier.url,
  };
}

/** A real HAProxy whose servers are the fake gateways (health-checked on their composite probe). */
export async function startFakeLb(fleet: Fleet): Promise<HaproxyInstance> {
  return startHaproxy({ dir: path.join(fleet.dir, 'haproxy'), servers: fleet.gateways.map((g) => ({ name: g.name, port: g.port })), probeToken: TOKENS.probe, detached: false });
}

export { stopHaproxy };

// ── the step context ─────────────────────────────────────────────────────────

export interface StepRun {
  ctx: StepContext;
  journal: Journal;
  events: Array<{ label: string; kind: string | undefined }>;
  figures: Record<string, Figure>;
  thresholds: ThresholdResult[];
  /** What the step left for the engine to run before the rollback. */
  beforeRollback: Array<() => Promise<void>>;
  /** Every ctx.sleep(ms) asked for. */
  sleeps: number[];
  abort(): void;
}

/** The engine's token lookup: minted by the drill first, else the profile's. */
function drillTokens(t: ChaosTarget): DrillTokens {
  const minted = new Map<string, string>();
  return { minted, get: (name) => minted.get(name) ?? tokenOf(t, name), add: (name, value) => void minted.set(name, value) };
}

/**
 * A step context as the engine builds it, with a fresh journal at `fleet.journalFile`; its sleep
 * is the engine's (abortable) unless `sleep` replaces it.
 */
export function stepContext(
  fleet: Fleet,
  target: ChaosTarget,
  o: { id?: string; label?: string; load?: DrillLoad; tokens?: DrillTokens; sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>; marks?: Record<string, number> } = {},
): StepRun {
  fs.rmSync(fleet.journalFile, { force: true });
  const journal = Journal.create({ file: fleet.journalFile, id: 'run-1', drill: 'steps-test', target: target.ref });
  const ac = new AbortController();
  const run: Omit<StepRun, 'ctx'> = { journal, events: [], figures: {}, thresholds: [], beforeRollback: [], sleeps: [], abort: () => ac.abort() };
  const sleep = o.sleep ?? sleepFor;
  const ctx: StepContext = {
    target,
    journal,
    id: o.id ?? 'step-1',
    label: o.label ?? o.id ?? 'step 1',
    runId: 'run-1',
    signal: ac.signal,
    load: o.load,
    tokens: o.tokens ?? drillTokens(target),
    ev: (label, kind) => void run.events.push({ label, kind }),
    figure: (name, value) => void (run.figures[name] = value),
    threshold: (r) => void run.thresholds.push(r),
    sleep: (ms) => {
      run.sleeps.push(ms);
      return sleep(ms, ac.signal);
    },
    beforeRollback: (fn) => void run.beforeRollback.push(fn),
    markAt: (id) => o.marks?.[id],
  };
  return { ...run, ctx };
}

/** Parse a step as a drill file would (through StepSchema) and run its kind. */
export async function runStep(raw: Record<string, unknown>, ctx: StepContext): Promise<Step> {
  const step = StepSchema.parse(raw);
  await kindOf(step).run(actionOf(step), ctx);
  return step;
}

// ── fault commands ───────────────────────────────────────────────────────────

/**
 * A fault command (argv) that appends `<line> <state of the journal's newest entry>` to `log`:
 * what ran, in which order, and whether its intent was on disk before it ran. /bin/sh rather than
 * Node: a Node start costs a few hundred ms on a busy machine, and a drill test runs many.
 */
export function appendCommand(log: string, line: string, journalFile: string): string[] {
  // An entry's own `"state"` line comes after its undo's, so the file's last one is the newest entry's.
  const script = 's=no-journal; if [ -f "$2" ]; then s=$(sed -n \'s/.*"state": "\\([a-z-]*\\)".*/\\1/p\' "$2" | tail -n 1); s=${s:-no-entry}; fi; printf \'%s %s\\n\' "$0" "$s" >> "$1"';
  return ['/bin/sh', '-c', script, line, log, journalFile];
}

/** A fault command that fails the way kubectl does: a message on stderr, a non-zero exit. */
export function failingCommand(message: string, code = 3): string[] {
  return ['/bin/sh', '-c', `echo "$0" >&2; exit ${code}`, message];
}

export function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

// ── a scripted Prometheus ────────────────────────────────────────────────────

/** One answer of the scripted Prometheus: a vector's values (NaN allowed), or a query error. */
export type PromAnswer = readonly number[] | { readonly error: string };

export interface FakeProm {
  url: string;
  /** Queries in the order they came. */
  queries: string[];
  close(): Promise<void>;
}

const fmt = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Number.POSITIVE_INFINITY ? '+Inf' : v === Number.NEGATIVE_INFINITY ? '-Inf' : String(v));

/** `/api/v1/query` answered by `script(query, n)`, n counting that query's calls from 0. */
export async function startFakeProm(script: (query: string, n: number) => PromAnswer): Promise<FakeProm> {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const query = new URLSearchParams(text).get('query') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      if (!(req.url ?? '').startsWith('/api/v1/query')) {
        res.writeHead(404).end();
        return;
      }
      const n = queries.filter((q) => q === query).length;
      queries.push(query);
      const a = script(query, n);
      const t = Date.now() / 1000;
      const body =
        'error' in a
          ? { status: 'error', errorType: 'bad_data', error: a.error }
          : { status: 'success', data: { resultType: 'vector', result: a.map((v, i) => ({ metric: { instance: `i${i}` }, value: [t, fmt(v)] })) } };
      res.writeHead('error' in a ? 400 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * For a test file that reads a scripted Prometheus through a fake target: one fleet for the file,
 * and a Prometheus per call answering `answer` to every query, closed after each test.
 */
export function targetWithScriptedProm(): { answering(answer: PromAnswer): Promise<{ target: ChaosTarget; prom: FakeProm }> } {
  let fleet: Fleet | undefined;
  let prom: FakeProm | undefined;
  beforeAll(async () => {
    fleet = await startFleet();
  });
  afterAll(() => fleet?.close());
  afterEach(async () => {
    await prom?.close();
    prom = undefined;
  });
  return {
    async answering(answer) {
      if (fleet === undefined) throw new Error('targetWithScriptedProm: the fleet is not up (call it at the top of the file)');
      await prom?.close(); // one scripted Prometheus at a time, also when a test asks twice
      prom = await startFakeProm(() => answer);
      return { target: fakeTarget(fleet, { prom }), prom };
    },
  };
}
