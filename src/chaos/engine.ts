// One drill, start to verdict:
//
//   scope (other LB servers out) → load → warm-up → hypothesis BEFORE → method (faults at their
//   moments; hypothesis DURING every interval; watchers time what they watch) → recover →
//   ROLLBACKS → hypothesis AFTER (polled until it holds) → load stops → accounting → criteria.
//
// Rollbacks always run: on success, on failure, on abort (Ctrl-C/SIGTERM reach here as the
// signal) and on an exception (finally). What a killed harness could not undo stays in the
// journal for `clawstorm drill rollback`.
import { Agent, request } from 'undici';
import { validateProbe } from '../../contract/probe.ts';
import { showServersState } from '../lb/runtime.ts';
import type { DrillResultSchema } from '../report/results.ts';
import { compare, type ThresholdResult } from '../score/types.ts';
import { overallVerdict, type OverallResult } from '../score/verdict.ts';
import { newRunId, randomLoopback } from '../util/ids.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { sleep as sleepFor } from '../util/sleep.ts';
import { redact, registerSecret } from '../util/redact.ts';
import { timeline } from '../util/timeline.ts';
import { account, queueDepthOf, type RunsEndpoint } from '../webhooks/accounting.ts';
import type { z } from 'zod';
import {
  adminCall,
  faultGateway,
  gatewayFaults,
  gatewayTokens,
  lbState,
  lbWeight,
  runCommand,
  applyUndo,
  undoTargetsGateway,
  type FaultPatch,
} from '../faults/actions.ts';
import { checkAll, tracksFor, type ProbeTrack } from './hypothesis.ts';
import { Journal } from '../faults/journal.ts';
import { DrillLoad, mintToken } from './load.ts';
import { rollback, type RollbackOutcome } from '../faults/rollback.ts';
import type { DrillFile, OptionValue, Step, Watch } from './schema.ts';
import { ChaosTargetError, gatewayOf, runsEndpointOf, tokenOf, type ChaosTarget } from '../target/target.ts';
import { ratioAt, watermarkPolicy, type GatewayDisk } from './watermark.ts';

export type DrillResult = z.input<typeof DrillResultSchema>;
type Figure = number | string | boolean | null;

export interface DrillRunOptions {
  target: ChaosTarget;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Where the journal goes; default `<journal dir>/<run id>.json`. */
  journalFile?: string;
  runId?: string;
  /** Called once the journal exists (the CLI prints where it is). */
  onJournal?: (file: string) => void;
}

export interface DrillOutcome {
  result: DrillResult;
  verdict: OverallResult;
  aborted: boolean;
  journal: string;
  rollback: RollbackOutcome;
}

const STEP_KEYS = [
  'gateway.fault',
  'gateway.restore',
  'gateway.faults',
  'lb.state',
  'lb.weight',
  'command',
  'tokens.overlap',
  'clients.rotate',
  'tokens.revoke',
  'wait.stable',
  'expect.http',
  'disk.fill',
  'watermark.enforce',
  'wait',
] as const;
type StepKey = (typeof STEP_KEYS)[number];

export function stepKind(s: Step): StepKey {
  for (const k of STEP_KEYS) if (k in s) return k;
  throw new Error('step without an action');
}

export function stepLabel(s: Step, i: number): string {
  return s.name ?? s.id ?? `${stepKind(s)} #${i + 1}`;
}

function truthy(v: OptionValue | undefined): boolean {
  if (v === undefined) return true;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'boolean') return v;
  return v.trim() !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function gatewaysOf(t: ChaosTarget, set: 'all' | string[]): string[] {
  return set === 'all' ? t.gateways.map((g) => g.name) : set;
}

/** Every gateway and server a drill names exists on the target: checked before anything starts. */
export function preflight(def: DrillFile, t: ChaosTarget): void {
  const names = new Set(t.gateways.map((g) => g.name));
  const servers = new Set([...t.gateways.map((g) => g.server), ...names]);
  const problems: string[] = [];
  const need = (what: string, v: string, set: Set<string>) => {
    if (!set.has(v)) problems.push(`${def.file}: ${what}: target ${t.profile.name} has no ${JSON.stringify(v)} (has ${[...names].join(', ')})`);
  };
  for (const s of def.scope?.servers ?? []) need('scope.servers', s, servers);
  def.method.forEach((s, i) => {
    const at = `method[${i}]`;
    if ('gateway.fault' in s) need(`${at}.gateway`, s['gateway.fault'].gateway, names);
    if ('gateway.restore' in s) need(`${at}.gateway`, s['gateway.restore'].gateway, names);
    if ('command' in s) need(`${at}.gateway`, s.command.gateway, names);
    if ('gateway.faults' in s && s['gateway.faults'].gateways !== 'all') for (const g of s['gateway.faults'].gateways) need(`${at}.gateways`, g, names);
    if ('disk.fill' in s && s['disk.fill'].gateways !== 'all') for (const g of s['disk.fill'].gateways) need(`${at}.gateways`, g, names);
    if ('expect.http' in s && Array.isArray(s['expect.http'].via)) for (const g of s['expect.http'].via) need(`${at}.via`, g, names);
    if ('lb.state' in s) need(`${at}.server`, s['lb.state'].server, servers);
    if ('lb.weight' in s) need(`${at}.server`, s['lb.weight'].server, servers);
    if ('watermark.enforce' in s) need(`${at}.canary`, s['watermark.enforce'].canary, names);
  });
  def.hypothesis.probes.forEach((p, i) => {
    if ('probe' in p) need(`hypothesis.probes[${i}].probe.gateway`, p.probe.gateway, names);
    if ('lb' in p) need(`hypothesis.probes[${i}].lb.server`, p.lb.server, servers);
  });
  def.watch.forEach((w, i) => {
    if (w.kind === 'lb-down' || w.kind === 'lb-up') need(`watch[${i}].server`, w.server, servers);
  });
  if (problems.length > 0) throw new ChaosTargetError(problems.join('\n'), 2);
}

export async function runDrill(def: DrillFile, opts: DrillRunOptions): Promise<DrillOutcome> {
  const t = opts.target;
  preflight(def, t);
  const log = opts.log ?? (() => {});
  const runId = opts.runId ?? newRunId(def.name);
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const { events, ev } = timeline(def.name, t0, log);
  const figures: Record<string, Figure> = {};
  const thresholds: ThresholdResult[] = [];
  const marks = new Map<string, number>();
  const ac = new AbortController();
  const onOuter = () => ac.abort();
  if (opts.signal?.aborted) ac.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  const sleep = (ms: number): Promise<boolean> => sleepFor(ms, ac.signal);

  for (const [k, v] of Object.entries(def.options)) figures[`opt_${k}`] = v;
  const journal = Journal.create({ ...(opts.journalFile ? { file: opts.journalFile } : {}), id: runId, drill: def.name, target: t.ref });
  opts.onJournal?.(journal.file);
  ev(`drill ${def.name} (${def.profile}) against ${t.profile.name}; journal ${journal.file}`, 'phase');

  const runsEp: RunsEndpoint = runsEndpointOf(t);
  const extraTokens = new Map<string, string>();
  const tokenValue = (name: string): string => extraTokens.get(name) ?? tokenOf(t, name);

  // ── load ──
  let load: DrillLoad | undefined;
  const L = def.load;
  if (L.tools !== undefined || L.webhooks !== undefined) {
    load = new DrillLoad({
      spec: {
        ...(L.tools ? { tools: { rate: L.tools.rate, tool: L.tools.tool, timeoutMs: L.tools.timeout, token: L.tools.token } } : {}),
        ...(L.webhooks ? { webhooks: { rate: L.webhooks.rate, hook: L.webhooks.hook, timeoutMs: L.webhooks.timeout } } : {}),
      },
      lbUrl: t.lbUrl,
      tokens: t.tokens,
      runId,
      // Its own loopback source address: the drill's auth failures (if any) throttle nobody else.
      ...(isLoopbackHost(new URL(t.lbUrl).hostname) ? { localAddress: randomLoopback() } : {}),
      ...(def.generator ? { monitor: def.generator } : {}),
    });
  }

  // ── queue-depth sampler ──
  const qWatch = def.watch.find((w): w is Extract<Watch, { kind: 'queue-depth' }> => w.kind === 'queue-depth');
  let queueHigh: number | null = null;
  let sampling = false;
  let sampler: Promise<void> | undefined;
  const startSampler = () => {
    if (qWatch === undefined || sampling) return;
    sampling = true;
    sampler = (async () => {
      for (let i = 0; i < 1_000_000 && sampling; i++) {
        const d = await queueDepthOf(runsEp, 800);
        if (d !== null) queueHigh = Math.max(queueHigh ?? 0, d);
        await new Promise((r) => setTimeout(r, qWatch.interval));
      }
    })();
  };

  // ── watchers started by marks ──
  const watchJobs: Array<Promise<void>> = [];
  const startWatchers = (id: string) => {
    for (const w of def.watch) {
      if (!('from' in w) || w.from !== id) continue;
      if (w.kind === 'lb-down' || w.kind === 'lb-up') watchJobs.push(watchLb(w));
      if (w.kind === 'promql-until') watchJobs.push(watchPromql(w));
    }
  };
  const watchLb = async (w: Extract<Watch, { kind: 'lb-down' | 'lb-up' }>): Promise<void> => {
    figures[w.name] = null;
    if (t.haproxy === undefined) return;
    const from = Date.now();
    const want = w.kind === 'lb-down' ? 'DOWN' : 'UP';
    for (let i = 0; i < 100_000 && Date.now() - from < w.timeout; i++) {
      try {
        const s = (await showServersState(t.haproxy)).find((x) => x.name === w.server);
        if (s !== undefined && s.opState === want && (want === 'DOWN' || s.checkStatus.startsWith('L7OK'))) {
          figures[w.name] = Date.now() - from;
          ev(`${w.server} ${want} in the load balancer after ${figures[w.name]} ms`, 'measure');
          return;
        }
      } catch {
        // socket busy; try again
      }
      if (ac.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    ev(`${w.server} not ${want} in the load balancer within ${w.timeout} ms`, 'measure');
  };
  const promFigures = new Set<string>();
  const watchPromql = async (w: Extract<Watch, { kind: 'promql-until' }>): Promise<void> => {
    figures[w.name] = null;
    promFigures.add(w.name);
    if (t.prom === undefined) return;
    const from = Date.now();
    for (let i = 0; i < 100_000 && Date.now() - from < w.timeout; i++) {
      try {
        const r = await t.prom.instant(w.query);
        const vs = r.type === 'vector' ? r.series.map((s) => s.v) : r.type === 'scalar' ? [r.v] : [];
        if (vs.length > 0 && vs.every((v) => compare(v, w.op, w.value))) {
          figures[w.name] = Date.now() - from;
          ev(`Prometheus: ${w.name.replace(/_ms$/, '').replace(/_/g, ' ')} after ${figures[w.name]} ms`, 'measure');
          return;
        }
      } catch {
        // not answering now; keep polling until the deadline
      }
      if (ac.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    ev(`Prometheus did not see ${w.query} ${w.op} ${w.value} within ${w.timeout} ms`, 'measure');
  };

  // ── hypothesis ──
  const probes = def.hypothesis.probes;
  const sec = () => (Date.now() - t0) / 1000;
  let duringTracks: ProbeTrack[] = [];
  let duringLoop: Promise<void> | undefined;
  let duringOn = false;
  const startDuring = () => {
    duringTracks = tracksFor(probes, 'during');
    if (duringTracks.length === 0) return;
    duringOn = true;
    duringLoop = (async () => {
      for (let i = 0; i < 1_000_000 && duringOn; i++) {
        const started = Date.now();
        await checkAll(duringTracks, t, load, sec());
        const wait = def.hypothesis.interval - (Date.now() - started);
        if (wait > 0 && duringOn) await new Promise((r) => setTimeout(r, wait));
      }
    })();
  };
  const stopDuring = async () => {
    duringOn = false;
    await duringLoop;
  };

  // ── steps ──
  const execStep = async (s: Step, label: string, id: string): Promise<void> => {
    const kind = stepKind(s);
    if ('gateway.fault' in s) {
      const f = s['gateway.fault'];
      await faultGateway(t, journal, id, f.gateway, f.mode);
      ev(`${f.gateway} ${f.mode === 'crash' ? 'crashed (SIGKILL)' : f.mode === 'drain' ? 'drained and stopped (SIGTERM)' : 'hung (SIGSTOP)'}`, 'fault');
    } else if ('gateway.restore' in s) {
      const g = s['gateway.restore'].gateway;
      const mine = journal.pending().filter((e) => undoTargetsGateway(e.undo, g));
      if (mine.length === 0) {
        ev(`${g}: nothing to restore`, 'recover');
      }
      for (const e of mine) {
        const what = await applyUndo(t, e.undo);
        journal.mark(e.id, 'rolled-back');
        ev(`${label}: ${what}`, 'recover');
      }
    } else if ('gateway.faults' in s) {
      const f = s['gateway.faults'];
      for (const g of gatewaysOf(t, f.gateways)) await gatewayFaults(t, journal, id, g, f.patch as FaultPatch);
      ev(`${gatewaysOf(t, f.gateways).join(', ')}: faults ${JSON.stringify(f.patch)}`, 'fault');
    } else if ('lb.state' in s) {
      await lbState(t, journal, id, s['lb.state'].server, s['lb.state'].state);
      ev(`haproxy ${s['lb.state'].server} → ${s['lb.state'].state}`, 'fault');
    } else if ('lb.weight' in s) {
      await lbWeight(t, journal, id, s['lb.weight'].server, s['lb.weight'].weight);
      ev(`haproxy ${s['lb.weight'].server} weight → ${s['lb.weight'].weight}`, 'fault');
    } else if ('command' in s) {
      const c = s.command;
      const cmd = gatewayOf(t, c.gateway).faults?.[c.fault];
      if (cmd === undefined) throw new Error(`${t.profile.file}: gateways[${c.gateway}].faults.${c.fault}: no such command`);
      if (c.fault === 'start' || c.fault === 'resume') await runCommand(cmd, `${c.gateway} ${c.fault}`);
      else {
        const reverse = c.fault === 'pause' ? 'resume' : 'start';
        if (gatewayOf(t, c.gateway).faults?.[reverse] === undefined) throw new Error(`${t.profile.file}: gateways[${c.gateway}].faults.${reverse}: needed to undo ${c.fault}`);
        const jid = journal.intent(id, `${c.gateway} ${c.fault} (command)`, { kind: 'command', gateway: c.gateway, fault: reverse });
        try {
          await runCommand(cmd, `${c.gateway} ${c.fault}`);
          journal.mark(jid, 'applied');
        } catch (err) {
          journal.mark(jid, 'failed', (err as Error).message);
          throw err;
        }
      }
      ev(`${c.gateway}: ${c.fault} command ran`, 'fault');
    } else if ('tokens.overlap' in s) {
      const name = s['tokens.overlap'].token;
      const value = mintToken();
      registerSecret(value);
      extraTokens.set(name, value);
      load?.tokenBox.values.set(name, value);
      const gws = t.gateways.map((g) => g.name);
      await gatewayTokens(t, journal, id, gws, [tokenOf(t, 'gateway'), value], `gateway + ${name} (overlap)`);
      ev(`overlap: every gateway accepts the primary and ${name}`, 'fault');
    } else if ('clients.rotate' in s) {
      const name = s['clients.rotate'].token;
      tokenValue(name);
      if (load !== undefined) load.tokenBox.current = name;
      ev(`clients follow the rotation: they send ${name} now`, 'fault');
    } else if ('tokens.revoke' in s) {
      const keep = s['tokens.revoke'].keep;
      const gws = t.gateways.map((g) => g.name);
      await gatewayTokens(t, journal, id, gws, [tokenValue(keep)], `${keep} only (old token revoked)`);
      ev(`revoked: every gateway accepts ${keep} only`, 'fault');
    } else if ('wait.stable' in s) {
      const w = s['wait.stable'];
      const from = Date.now();
      const ok = await waitStable(w);
      figures[`${id}.waited_ms`] = Date.now() - from;
      thresholds.push({
        name: label,
        source: 'promql',
        expr: `${w.queries.map((q) => q.name).join(' and ')} flat (±${w.queries.map((q) => `${q.tolerance * 100}%`).join('/')}) for ${w.intervals} × ${w.interval / 1000}s`,
        observed: ok.intervals,
        verdict: ok.ok ? 'pass' : ac.signal.aborted ? 'no_data' : 'fail',
        detail: ok.detail,
      });
      if (!ok.ok) throw new Error(`${label}: ${ok.detail}`);
      ev(`${label}: ${ok.detail}`, 'measure');
    } else if ('expect.http' in s) {
      await expectHttp(s['expect.http'], label);
    } else if ('disk.fill' in s) {
      const f = s['disk.fill'];
      const set: string[] = [];
      for (const g of gatewaysOf(t, f.gateways)) {
        const disk = await readDisk(g);
        const ratio = ratioAt(f.level, disk);
        await gatewayFaults(t, journal, id, g, { diskUsedRatio: ratio });
        set.push(`${g} ${(ratio * 100).toFixed(0)}% (yellow ${(disk.yellow * 100).toFixed(0)}%, red ${(disk.red * 100).toFixed(0)}%)`);
      }
      ev(`disk used: ${set.join(', ')}`, 'fault');
    } else if ('watermark.enforce' in s) {
      await enforceWatermark(s['watermark.enforce'].canary, id);
    } else if ('wait' in s) {
      await sleep(s.wait);
    } else {
      throw new Error(`step kind ${kind} not implemented`);
    }
  };

  const waitStable = async (w: Extract<Step, { 'wait.stable': unknown }>['wait.stable']): Promise<{ ok: boolean; intervals: number; detail: string }> => {
    if (t.prom === undefined) return { ok: false, intervals: 0, detail: 'no Prometheus for this target' };
    const prom = t.prom;
    const from = Date.now();
    let prev: number[] | undefined;
    let flat = 0;
    let last = '';
    for (let i = 0; i < 100_000; i++) {
      const vals: number[] = [];
      for (const q of w.queries) {
        try {
          const r = await prom.instant(q.query);
          const vs = r.type === 'vector' ? r.series.map((x) => x.v) : r.type === 'scalar' ? [r.v] : [];
          vals.push(vs.length === 0 ? Number.NaN : vs.reduce((a, b) => a + b, 0));
        } catch {
          vals.push(Number.NaN);
        }
      }
      last = w.queries.map((q, k) => `${q.name} ${Number.isNaN(vals[k]!) ? 'no data' : vals[k]!.toFixed(3)}`).join(', ');
      const valid = vals.every((v, k) => !Number.isNaN(v) && (w.queries[k]!.min === undefined || v >= w.queries[k]!.min!));
      if (prev !== undefined && valid) {
        const p = prev;
        const isFlat = vals.every((v, k) => {
          const b = p[k]!;
          const tol = w.queries[k]!.tolerance;
          return b === 0 ? Math.abs(v) <= 1e-9 : Math.abs(v - b) <= tol * Math.abs(b);
        });
        flat = isFlat ? flat + 1 : 0;
      } else flat = 0;
      prev = valid ? vals : undefined;
      if (flat >= w.intervals) return { ok: true, intervals: flat, detail: `flat for ${flat} polling intervals after ${((Date.now() - from) / 1000).toFixed(1)} s (${last})` };
      if (Date.now() - from >= w.timeout) break;
      if (!(await sleep(w.interval))) return { ok: false, intervals: flat, detail: 'aborted' };
    }
    return { ok: false, intervals: flat, detail: `not flat for ${w.intervals} intervals within ${w.timeout / 1000} s (last: ${last})` };
  };

  const expectHttp = async (e: Extract<Step, { 'expect.http': unknown }>['expect.http'], label: string): Promise<void> => {
    const bases = e.via === 'lb' ? [{ name: 'lb', url: t.lbUrl }] : gatewaysOf(t, e.via).map((g) => ({ name: g, url: gatewayOf(t, g).url }));
    // Its own loopback address: a deliberate auth failure must not count against other clients.
    const agent = new Agent({ localAddress: randomLoopback() } as ConstructorParameters<typeof Agent>[0]);
    const seen: string[] = [];
    let worst: number | null = null;
    let ok = true;
    try {
      for (const b of bases) {
        try {
          const r = await request(`${b.url}${e.path}`, {
            method: e.method,
            dispatcher: agent,
            headers: { authorization: `Bearer ${tokenValue(e.token)}`, 'content-type': 'application/json', 'x-correlation-id': `${runId}.expect` },
            body: e.body === undefined ? (e.method === 'GET' ? undefined : '{}') : JSON.stringify(e.body),
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          });
          await r.body.text();
          seen.push(`${b.name} ${r.statusCode}`);
          if (r.statusCode !== e.status) {
            ok = false;
            worst = r.statusCode;
          } else worst ??= r.statusCode;
        } catch (err) {
          ok = false;
          seen.push(`${b.name} ${(err as Error).message}`);
        }
      }
    } finally {
      await agent.close().catch(() => {});
    }
    thresholds.push({ name: label, source: 'client', expr: `${e.method} ${e.path} with token ${e.token} → ${e.status}`, observed: worst, verdict: ok ? 'pass' : 'fail', detail: seen.join(', ') });
    ev(`${label}: ${seen.join(', ')}`, 'measure');
  };

  const readDisk = async (g: string): Promise<GatewayDisk> => {
    const gw = gatewayOf(t, g);
    const path = t.profile.gateways.find((x) => x.name === g)?.probePath ?? '/keda/metrics';
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${tokenOf(t, 'probe')}` }, signal: AbortSignal.timeout(3_000) });
    const v = validateProbe(await res.json());
    if (!v.ok) throw new Error(`${g}: composite probe off contract: ${v.errors.join('; ')}`);
    const d = v.value.detail;
    const gates = d?.disk_gates ?? { yellow: 0.82, red: 0.9 };
    return { gateway: g, az: gw.az, ratio: d?.disk_used_ratio ?? Number.NaN, yellow: gates.yellow, red: gates.red, diskOk: v.value.gateway.disk_ok };
  };

  const enforceWatermark = async (canary: string, id: string): Promise<void> => {
    const disks = await Promise.all(t.gateways.map((g) => readDisk(g.name)));
    const sig = watermarkPolicy(disks);
    // Figures of a policy step are `<step id>.<figure>`: the report pivots them into one table.
    const p = id;
    figures[`${p}.level`] = sig.level;
    for (const d of disks) figures[`${p}.disk_used_${d.gateway}`] = d.ratio;
    for (const d of disks) figures[`${p}.yellow_gate_${d.gateway}`] = d.yellow;
    figures[`${p}.disk_ok_false`] = disks.filter((d) => !d.diskOk).length;
    figures[`${p}.disk_ok_true`] = disks.filter((d) => d.diskOk).length;
    figures[`${p}.gateways`] = disks.length;
    figures[`${p}.scale_up_blocked`] = sig.blockScaleUp ? 1 : 0;
    figures[`${p}.stable_lane_only`] = sig.stableLaneOnly ? 1 : 0;
    figures[`${p}.scale_to_min`] = sig.scaleToMin ? 1 : 0;
    figures[`${p}.probe_inconsistent`] = sig.inconsistent.length;
    ev(
      `watermark ${sig.level}: disk_ok false on ${disks.filter((d) => !d.diskOk).map((d) => `${d.gateway} (${(d.ratio * 100).toFixed(0)}% ≥ ${(d.yellow * 100).toFixed(0)}%)`).join(', ') || 'none'}` +
        `${sig.blockScaleUp ? '; scale-up blocked, stable lane only' : ''}${sig.scaleToMin ? '; scale to minimum replicas' : ''}`,
      'measure',
    );
    let published = 0;
    if (sig.broadcastDigest) {
      if (t.notifierUrl === undefined) ev('no notifier on this target: digest not broadcast', 'measure');
      else {
        const statusOf = (d: GatewayDisk) => (d.ratio >= d.red ? 'disk-red' : 'disk-yellow');
        const crossing = disks.filter((d) => d.ratio >= d.yellow || !d.diskOk);
        await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'POST', '/events', {
          events: crossing.map((d) => ({
            status: statusOf(d),
            correlationId: `${runId}.${id}.${d.gateway}`,
            az: d.az,
            gateway: d.gateway,
            retryCount: 0,
            detail: `disk ${(d.ratio * 100).toFixed(0)}% used, ${d.ratio >= d.red ? 'red' : 'yellow'} gate ${((d.ratio >= d.red ? d.red : d.yellow) * 100).toFixed(0)}%: ${sig.scaleToMin ? 'scale to minimum, canary drained' : 'scale-up blocked, stable lane only'}`,
          })),
        });
        const flushed = (await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'POST', '/flush')) as { digest?: { id?: number; published?: boolean; statuses?: Array<{ status: unknown; count: number }>; summary?: string } | null };
        const d = flushed.digest;
        const carried = (d?.statuses ?? []).filter((x) => x.status === 'disk-red' || x.status === 'disk-yellow').reduce((a, x) => a + x.count, 0);
        published = d?.published === true && carried >= crossing.length ? 1 : 0;
        ev(published ? `digest ${d?.id} published: ${d?.summary ?? ''}` : `digest not published (${JSON.stringify(d ?? null).slice(0, 120)})`, 'measure');
      }
    }
    figures[`${p}.digest_published`] = published;
    if (sig.drainCanary) {
      await lbState(t, journal, id, gatewayOf(t, canary).server, 'drain');
      const st = t.haproxy ? (await showServersState(t.haproxy)).find((x) => x.name === gatewayOf(t, canary).server) : undefined;
      figures[`${p}.canary_drained`] = st?.adminState === 'drain' ? 1 : 0;
      ev(`canary ${canary} drained in the load balancer (${st?.status ?? 'state unknown'})`, 'fault');
    } else figures[`${p}.canary_drained`] = 0;
  };

  /**
   * Before the journal puts the primary token back as the only one, clients that followed a
   * rotation move back to it, over a short overlap, so the rollback costs them no auth failure.
   */
  const clientsFollowRollback = async (): Promise<void> => {
    if (extraTokens.size === 0 || load === undefined || !load.active || load.tokenBox.current === 'gateway') return;
    try {
      const values = [tokenOf(t, 'gateway'), ...extraTokens.values()];
      await Promise.all(t.gateways.map((g) => adminCall(g.url, tokenOf(t, 'admin'), 'PUT', '/admin/tokens', { gateway: values })));
      load.tokenBox.current = 'gateway';
      // Requests already sent with the rotated token finish before it goes.
      await new Promise((r) => setTimeout(r, 1_500));
      ev('clients follow the rollback: back on the primary token', 'phase');
    } catch (err) {
      ev(`clients could not follow the rollback: ${redact((err as Error).message)}`, 'error');
    }
  };

  // ── run ──
  let aborted = false;
  let failedStep: string | undefined;
  let rb: RollbackOutcome = { journal: journal.file, drill: def.name, undone: [], failed: [], skipped: [], ok: true };
  let methodRan = false;
  let afterTracks: ProbeTrack[] = [];
  try {
    if (def.scope !== undefined) {
      if (t.haproxy === undefined) ev('scope: no load balancer runtime API; other servers stay in rotation', 'phase');
      else {
        const keep = new Set(def.scope.servers.map((n) => t.gateways.find((g) => g.name === n)?.server ?? n));
        for (const s of await showServersState(t.haproxy)) {
          if (!keep.has(s.name) && s.adminState !== 'maint') await lbState(t, journal, 'scope', s.name, 'maint');
        }
        ev(`scope: load balancer serves ${[...keep].join(' + ')} only`, 'phase');
      }
    }
    const stepsMax = def.method.reduce((a, s) => a + (s.at ?? 0) + (s.after ?? 0) + ('wait.stable' in s ? s['wait.stable'].timeout : 0) + ('wait' in s ? s.wait : 0) + 30_000, 0);
    load?.start(def.timing.warmup + stepsMax + def.timing.recover + def.hypothesis.afterTimeout + 60_000, ac.signal);
    startSampler();
    if (load) ev(`load: ${L.tools ? `${L.tools.rate}/s ${L.tools.tool}` : ''}${L.tools && L.webhooks ? ' + ' : ''}${L.webhooks ? `${L.webhooks.rate}/s webhooks` : ''} through ${t.lbUrl}`, 'phase');
    await sleep(def.timing.warmup);

    // BEFORE
    const before = tracksFor(probes, 'before');
    if (!ac.signal.aborted && before.length > 0) {
      await checkAll(before, t, load, sec());
      thresholds.push(...before.map((b) => b.result()));
    }
    const steady = before.every((b) => b.verdict() !== 'fail');
    if (!steady) ev(`steady state does not hold before the faults: method not run (${before.filter((b) => b.verdict() === 'fail').map((b) => b.probe.name).join(', ')})`, 'phase');

    // METHOD + DURING
    if (steady && !ac.signal.aborted) {
      methodRan = true;
      ev('method starts', 'phase');
      startDuring();
      const methodStart = Date.now();
      for (let i = 0; i < def.method.length; i++) {
        const s = def.method[i]!;
        const label = stepLabel(s, i);
        const id = s.id ?? `step-${i + 1}`;
        if (!truthy(s.if)) {
          ev(`${label}: skipped (condition off)`, 'phase');
          continue;
        }
        const due = s.at !== undefined ? methodStart + s.at : Date.now() + (s.after ?? 0);
        if (!(await sleep(due - Date.now()))) break;
        marks.set(id, Date.now());
        startWatchers(id);
        try {
          await execStep(s, label, id);
        } catch (err) {
          failedStep = label;
          const msg = redact((err as Error).message);
          if (!thresholds.some((x) => x.name === label)) {
            thresholds.push({ name: `step: ${label}`, source: 'client', expr: stepKind(s), observed: null, verdict: ac.signal.aborted ? 'no_data' : 'fail', detail: msg });
          }
          ev(`${label} failed: ${msg}`, 'error');
          break;
        }
        if (ac.signal.aborted) break;
      }
      if (!ac.signal.aborted) {
        ev('recovery window', 'phase');
        await sleep(def.timing.recover);
      }
      await stopDuring();
      thresholds.push(...duringTracks.map((d) => d.result()));
    }
  } catch (err) {
    failedStep ??= 'setup';
    const msg = redact((err as Error).message);
    thresholds.push({ name: 'drill ran', source: 'client', expr: 'no error', observed: null, verdict: 'fail', detail: msg });
    ev(`error: ${msg}`, 'error');
  } finally {
    duringOn = false;
    await duringLoop?.catch(() => {});
    aborted = ac.signal.aborted;
    if (aborted) ev('aborted: stopping the load and rolling back', 'phase');
    // ROLLBACKS: always.
    if (aborted) await load?.stop(3_000);
    await clientsFollowRollback();
    ev(`rollbacks: ${journal.pending().length} change(s) to undo`, 'phase');
    rb = await rollback(journal, t, (line) => log(`${def.name}: ${line}`)).catch((err: Error) => ({ ...rb, ok: false, failed: [err.message] }));
    for (const f of rb.failed) ev(`rollback failed: ${f}`, 'error');
    ev(rb.ok ? 'rollbacks done' : `rollbacks incomplete: run 'clawstorm drill rollback --journal ${journal.file}'`, 'phase');
  }

  // AFTER: under load, polled until the hypothesis holds again.
  if (methodRan && !aborted) {
    const deadline = Date.now() + def.hypothesis.afterTimeout;
    for (let round = 0; round < 10_000; round++) {
      afterTracks = tracksFor(probes, 'after');
      if (afterTracks.length === 0) break;
      await checkAll(afterTracks, t, load, sec());
      if (afterTracks.every((a) => a.verdict() === 'pass') || Date.now() >= deadline || ac.signal.aborted) break;
      await sleep(def.hypothesis.interval);
    }
    thresholds.push(...afterTracks.map((a) => a.result()));
    if (afterTracks.length > 0) ev(afterTracks.every((a) => a.verdict() === 'pass') ? 'steady state holds again' : 'steady state did not return in time', 'phase');
  }

  // Load stops; what it measured becomes figures.
  const loadStop = Date.now();
  const engine = await load?.stop();
  if (load) ev('load stopped', 'phase');
  await Promise.allSettled(watchJobs);
  const saturated = engine?.monitor.saturated === true;
  if (load) {
    const r = load.requests();
    figures.requests = r.count;
    figures.client_errors = r.errors;
    figures.client_error_rate = r.count > 0 ? Math.round((r.errors / r.count) * 1e6) / 1e6 : null;
    figures.generator_saturated = saturated;
    // Why, so a reader can tell a busy host from a slow generator.
    if (saturated) figures.generator_saturated_reasons = engine?.monitor.reasons.join('; ') ?? null;
  }
  for (const w of def.watch) {
    if (w.kind === 'client-errors') {
      const from = marks.get(w.from);
      const to = w.to !== undefined ? marks.get(w.to) : load?.stoppedAt;
      if (from === undefined || load === undefined) figures[w.name] = null;
      else {
        const fs = Math.floor(from / 1000);
        const ts = Math.floor((to ?? Date.now()) / 1000);
        const bs = load.buckets(w.scenario).filter((b) => b.t >= fs && b.t <= ts);
        figures[w.name] = bs.reduce((a, b) => a + b.errors, 0);
        const n = bs.reduce((a, b) => a + b.count, 0);
        figures[`${w.name}_of`] = n;
      }
    } else if (w.kind === 'client-status') {
      figures[w.name] = load ? load.statuses.count(w.status, w.scenario) : null;
    }
  }
  const acctWatch = def.watch.find((w): w is Extract<Watch, { kind: 'webhook-accounting' }> => w.kind === 'webhook-accounting');
  if (acctWatch !== undefined) {
    if (load === undefined || aborted) {
      for (const k of ['acknowledged', 'lost', 'duplicated']) figures[`${acctWatch.name}_${k}`] = null;
    } else {
      const a = await account(runsEp, load.acks, { timeoutMs: acctWatch.timeout });
      figures[`${acctWatch.name}_acknowledged`] = a.acknowledged;
      figures[`${acctWatch.name}_found`] = a.error !== undefined && a.found === 0 ? null : a.found;
      figures[`${acctWatch.name}_lost`] = a.error !== undefined && a.found === 0 ? null : a.lost;
      figures[`${acctWatch.name}_duplicated`] = a.error !== undefined && a.found === 0 ? null : a.duplicated;
      // How the processed runs ended, where the ledger tells (real gateways without model credentials end in `error`).
      for (const [k, v] of Object.entries(a.outcomes ?? {})) figures[`${acctWatch.name}_outcome_${k}`] = v;
      ev(`webhooks: ${a.acknowledged} acknowledged, ${a.lost} lost, ${a.duplicated} duplicated${a.error ? ` (${a.error})` : ''}`, 'measure');
    }
  }
  if (qWatch !== undefined) {
    // Drain: from the end of the load until the fleet-wide queue is empty.
    if (!aborted) {
      for (let i = 0; i < 10_000; i++) {
        const d = await queueDepthOf(runsEp, 1_000);
        if (d === 0) {
          figures[`${qWatch.name}_drain_ms`] = Date.now() - loadStop;
          break;
        }
        if (Date.now() - loadStop > 30_000) {
          figures[`${qWatch.name}_drain_ms`] = null;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    sampling = false;
    await sampler;
    figures[`${qWatch.name}_high_water`] = queueHigh;
  }
  opts.signal?.removeEventListener('abort', onOuter);

  // CRITERIA
  for (const c of def.criteria) {
    const v = figures[c.figure];
    const source = promFigures.has(c.figure) ? 'promql' : 'client';
    const expr = `${c.figure} ${c.op} ${c.value}`;
    if (typeof v !== 'number' || Number.isNaN(v)) {
      thresholds.push({ name: c.name, source, expr, observed: null, verdict: 'no_data', detail: `${c.figure}: not measured${aborted ? ' (drill aborted)' : ''}` });
    } else {
      const ok = compare(v, c.op, c.value);
      thresholds.push({ name: c.name, source, expr, observed: v, verdict: ok ? 'pass' : 'fail', detail: `${c.figure} = ${v} ${ok ? 'meets' : 'violates'} ${c.op} ${c.value}` });
    }
  }
  if (!rb.ok) thresholds.push({ name: 'rollbacks complete', source: 'client', expr: 'every change undone', observed: rb.failed.length, verdict: 'fail', detail: rb.failed.join('; ') });
  figures.rollbacks_undone = rb.undone.length;
  figures.duration_s = Math.round((Date.now() - t0) / 100) / 10;
  if (failedStep !== undefined) figures.failed_step = failedStep;

  const verdict = overallVerdict({ thresholds, saturated, aborted });
  const status = verdict.verdict === 'pass' ? 'Pass' : verdict.verdict === 'fail' ? 'Fail' : 'No data';
  ev(`verdict ${verdict.verdict}${verdict.reasons.length ? ` (${verdict.reasons.join('; ')})` : ''}`, 'verdict');
  const result: DrillResult = { name: def.name, title: def.title, status, startedAt, events, figures, thresholds };
  return { result, verdict, aborted, journal: journal.file, rollback: rb };
}
