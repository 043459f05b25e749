// One drill, start to verdict. The engine only runs phases; what each step does is in its kind
// (src/chaos/steps), how probes and watchers judge is in their tracks:
//
//   scope (other LB servers out) → load → warm-up → hypothesis BEFORE (must hold, or the method
//   is not run) → method (steps at their moments; hypothesis DURING every interval; watchers
//   time what they watch) → recover → ROLLBACKS → hypothesis AFTER (polled until it holds) →
//   load stops → accounting → criteria.
//
// Rollbacks always run: on success, on failure, on abort (Ctrl-C/SIGTERM reach here as the
// signal) and on an exception (finally). What a killed harness could not undo stays in the
// journal for `clawstorm drill rollback`.
import { lbState } from '../faults/actions.ts';
import { Journal } from '../faults/journal.ts';
import { rollback, type RollbackOutcome } from '../faults/rollback.ts';
import { showServersState } from '../lb/runtime.ts';
import type { DrillResult } from '../report/results.ts';
import { judgeCriterion } from '../score/criteria.ts';
import { applySaturation, statusOfVerdict } from '../score/status.ts';
import { runTracks } from '../score/track-run.ts';
import type { ThresholdResult } from '../score/types.ts';
import { overallVerdict, type OverallResult } from '../score/verdict.ts';
import { TargetError } from '../target/bind.ts';
import { runsEndpointOf, tokenOf, type ChaosTarget } from '../target/target.ts';
import { newRunId, randomLoopback } from '../util/ids.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { redact } from '../util/redact.ts';
import { sleep as sleepFor } from '../util/sleep.ts';
import { timeline } from '../util/timeline.ts';
import { probeThresholds, summarizeProbes } from '../probe/judge.ts';
import { ProbeSampler } from '../probe/sampler.ts';
import { probeMeasure, probeResult, tracksFor, type ProbeTrack } from './hypothesis.ts';
import { clientSeries, DrillLoad } from './load.ts';
import type { DrillFile, Watch } from './schema.ts';
import { actionOf, kindOf, stepLabel, type Step } from './steps/index.ts';
import type { DrillTokens, Figure, StepContext } from './steps/step.ts';
import { holds } from './condition.ts';
import { accountingFigures, drainTime, loadFigures, QueueSampler, startWatchers, type FigureNotes } from './watchers.ts';

export type { DrillResult };

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
    const kind = kindOf(s);
    for (const r of kind.refs?.(actionOf(s), [...names]) ?? []) need(`method[${i}].${r.field}`, r.name, r.kind === 'gateway' ? names : servers);
  });
  def.hypothesis.probes.forEach((p, i) => {
    if ('probe' in p) need(`hypothesis.probes[${i}].probe.gateway`, p.probe.gateway, names);
    if ('lb' in p) need(`hypothesis.probes[${i}].lb.server`, p.lb.server, servers);
  });
  def.watch.forEach((w, i) => {
    if (w.kind === 'lb-down' || w.kind === 'lb-up') need(`watch[${i}].server`, w.server, servers);
  });
  if (problems.length > 0) throw new TargetError(problems.join('\n'), 2);
}

/** How long the drill's load may run at most: every step's timing and waits, recovery and after. */
function loadBudgetMs(def: DrillFile): number {
  const steps = def.method.reduce((a, s) => {
    const action = actionOf(s) as { timeout?: number } | number;
    const waits = 'wait' in s ? (s.wait as number) : typeof action === 'object' && action !== null && typeof action.timeout === 'number' ? action.timeout : 0;
    return a + (s.at ?? 0) + (s.after ?? 0) + waits + 30_000;
  }, 0);
  return def.timing.warmup + steps + def.timing.recover + def.hypothesis.afterTimeout + 60_000;
}

function drillTokens(t: ChaosTarget): DrillTokens {
  const minted = new Map<string, string>();
  return {
    minted,
    get: (name) => minted.get(name) ?? tokenOf(t, name),
    add: (name, value) => void minted.set(name, value),
  };
}

function startLoad(def: DrillFile, t: ChaosTarget, runId: string): DrillLoad | undefined {
  const L = def.load;
  if (L.tools === undefined && L.webhooks === undefined) return undefined;
  return new DrillLoad({
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
    gateways: t.gateways,
  });
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
  /** Why a figure is null, and what stands behind it (a duplicate's run ids), where a watcher says. */
  const notes: FigureNotes = {};
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

  const runs = runsEndpointOf(t);
  const load = startLoad(def, t, runId);
  const tokens = drillTokens(t);
  const beforeRollback: Array<() => Promise<void>> = [];
  const watchJobs: Array<Promise<void>> = [];
  const watchCtx = { target: t, signal: ac.signal, figures, ev };
  const qWatch = def.watch.find((w): w is Extract<Watch, { kind: 'queue-depth' }> => w.kind === 'queue-depth');
  const queue = new QueueSampler();
  const timing = { interval: def.hypothesis.interval, afterTimeout: def.hypothesis.afterTimeout };
  const hypothesisProbes = def.hypothesis.probes;
  // Every gateway's probe through the drill: its SLO is judged here too; degraded and drift are
  // reported (a drill breaks gateways on purpose; its hypothesis says what must hold).
  const probes = new ProbeSampler(t);

  /** Drive a phase's probe tracks until done (or the signal stops them) and report them. */
  const judgePhase = async (pts: ProbeTrack[], signal: AbortSignal): Promise<void> => {
    await runTracks(pts.map((p) => ({ track: p.track, measure: probeMeasure(p.probe, t, load) })), { signal });
  };

  const stepContext = (s: Step, i: number): StepContext => ({
    target: t,
    journal,
    id: s.id ?? `step-${i + 1}`,
    label: stepLabel(s, i),
    runId,
    signal: ac.signal,
    load,
    tokens,
    ev,
    figure: (name, value) => void (figures[name] = value),
    threshold: (r) => void thresholds.push(r),
    sleep,
    markAt: (id) => marks.get(id),
    beforeRollback: (fn) => void beforeRollback.push(fn),
  });

  let aborted = false;
  let failedStep: string | undefined;
  let rb: RollbackOutcome = { journal: journal.file, drill: def.name, undone: [], failed: [], skipped: [], ok: true };
  let methodRan = false;
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
    load?.start(loadBudgetMs(def), ac.signal);
    probes.start();
    if (qWatch !== undefined) queue.start(runs, qWatch.interval);
    const L = def.load;
    if (load) ev(`load: ${L.tools ? `${L.tools.rate}/s ${L.tools.tool}` : ''}${L.tools && L.webhooks ? ' + ' : ''}${L.webhooks ? `${L.webhooks.rate}/s webhooks` : ''} through ${t.lbUrl}`, 'phase');
    await sleep(def.timing.warmup);

    // BEFORE: the steady state must hold before anything is broken; a probe that could not be
    // measured does not establish it either.
    const before = tracksFor(hypothesisProbes, 'before', timing);
    if (!ac.signal.aborted && before.length > 0) {
      await judgePhase(before, ac.signal);
      for (const b of before) if (!b.track.done) b.track.terminate('aborted');
      thresholds.push(...before.map(probeResult));
    }
    const notHeld = before.filter((b) => b.track.phase !== 'Successful');
    if (notHeld.length > 0) ev(`steady state not established before the faults: method not run (${notHeld.map((b) => `${b.probe.name}: ${b.track.phase.toLowerCase()}`).join(', ')})`, 'phase');

    // METHOD + DURING
    if (notHeld.length === 0 && !ac.signal.aborted) {
      methodRan = true;
      ev('method starts', 'phase');
      const during = tracksFor(hypothesisProbes, 'during', timing);
      const stopDuring = new AbortController();
      const duringLoop = judgePhase(during, AbortSignal.any([ac.signal, stopDuring.signal]));
      const methodStart = Date.now();
      try {
        for (let i = 0; i < def.method.length; i++) {
          const s = def.method[i]!;
          const ctx = stepContext(s, i);
          if (!holds(s.if)) {
            ev(`${ctx.label}: skipped (condition off)`, 'phase');
            continue;
          }
          const due = s.at !== undefined ? methodStart + s.at : Date.now() + (s.after ?? 0);
          if (!(await sleep(due - Date.now()))) break;
          marks.set(ctx.id, Date.now());
          watchJobs.push(...startWatchers(def.watch, ctx.id, watchCtx));
          try {
            await kindOf(s).run(actionOf(s), ctx);
          } catch (err) {
            failedStep = ctx.label;
            const msg = redact((err as Error).message);
            if (!thresholds.some((x) => x.name === ctx.label)) {
              thresholds.push({ name: `step: ${ctx.label}`, source: 'client', expr: kindOf(s).key, observed: null, verdict: ac.signal.aborted ? 'no_data' : 'fail', detail: msg });
            }
            ev(`${ctx.label} failed: ${msg}`, 'error');
            break;
          }
          if (ac.signal.aborted) break;
        }
        if (!ac.signal.aborted) {
          ev('recovery window', 'phase');
          await sleep(def.timing.recover);
        }
      } finally {
        stopDuring.abort();
        await duringLoop;
      }
      for (const d of during) d.track.terminate(ac.signal.aborted ? 'aborted' : 'method ended');
      thresholds.push(...during.map(probeResult));
    }
  } catch (err) {
    failedStep ??= 'setup';
    const msg = redact((err as Error).message);
    thresholds.push({ name: 'drill ran', source: 'client', expr: 'no error', observed: null, verdict: 'fail', detail: msg });
    ev(`error: ${msg}`, 'error');
  } finally {
    aborted = ac.signal.aborted;
    if (aborted) ev('aborted: stopping the load and rolling back', 'phase');
    // ROLLBACKS: always.
    if (aborted) await load?.stop(3_000);
    for (const fn of beforeRollback) await fn();
    ev(`rollbacks: ${journal.pending().length} change(s) to undo`, 'phase');
    rb = await rollback(journal, t, (line) => log(`${def.name}: ${line}`)).catch((err: Error) => ({ ...rb, ok: false, failed: [err.message] }));
    for (const f of rb.failed) ev(`rollback failed: ${f}`, 'error');
    ev(rb.ok ? 'rollbacks done' : `rollbacks incomplete: run 'clawstorm drill rollback --journal ${journal.file}'`, 'phase');
  }

  // AFTER: under load, polled until the hypothesis holds again.
  if (methodRan && !aborted) {
    const after = tracksFor(hypothesisProbes, 'after', timing);
    if (after.length > 0) {
      await judgePhase(after, ac.signal);
      for (const a of after) if (!a.track.done) a.track.terminate(ac.signal.aborted ? 'aborted' : 'deadline');
      thresholds.push(...after.map(probeResult));
      ev(after.every((a) => a.track.phase === 'Successful') ? 'steady state holds again' : 'steady state did not return in time', 'phase');
    }
  }

  // Load stops; what it measured becomes figures.
  const loadStop = Date.now();
  const probeSummary = summarizeProbes(await probes.stop());
  thresholds.push(...probeThresholds(probeSummary, { degraded: false }).filter((x) => x.name.startsWith('probe P95')));
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
  loadFigures(def.watch, marks, load, figures);
  const acct = def.watch.find((w): w is Extract<Watch, { kind: 'webhook-accounting' }> => w.kind === 'webhook-accounting');
  if (acct !== undefined) await accountingFigures(acct.name, { target: t, runs, load, aborted, timeoutMs: acct.timeout }, figures, notes, ev);
  if (qWatch !== undefined) {
    if (!aborted) figures[`${qWatch.name}_drain_ms`] = await drainTime(runs, loadStop);
    await queue.stop();
    figures[`${qWatch.name}_high_water`] = queue.high;
  }
  opts.signal?.removeEventListener('abort', onOuter);

  // CRITERIA: the timed watchers' figures come from PromQL; every other figure from the harness.
  const promFigures = new Set(def.watch.filter((w) => w.kind === 'promql-until').map((w) => w.name));
  for (const c of def.criteria) {
    if (!holds(c.if)) continue;
    const note = notes[c.figure];
    const j = judgeCriterion({ name: c.name, figure: c.figure, op: c.op, value: c.value, source: promFigures.has(c.figure) ? 'promql' : 'client' }, figures[c.figure], `${note?.whyMissing ?? 'not measured'}${aborted ? ' (drill aborted)' : ''}`);
    thresholds.push(j.verdict === 'fail' && note?.evidence !== undefined ? { ...j, detail: `${j.detail}; ${note.evidence}` } : j);
  }
  if (!rb.ok) thresholds.push({ name: 'rollbacks complete', source: 'client', expr: 'every change undone', observed: rb.failed.length, verdict: 'fail', detail: rb.failed.join('; ') });
  figures.rollbacks_undone = rb.undone.length;
  figures.duration_s = Math.round((Date.now() - t0) / 100) / 10;
  if (failedStep !== undefined) figures.failed_step = failedStep;

  const judged = applySaturation(thresholds, saturated);
  const verdict = overallVerdict({ thresholds: judged, saturated, aborted });
  ev(`verdict ${verdict.verdict}${verdict.reasons.length ? ` (${verdict.reasons.join('; ')})` : ''}`, 'verdict');
  const result: DrillResult = { name: def.name, title: def.title, status: statusOfVerdict(verdict.verdict), reasons: verdict.reasons, startedAt, events, figures, thresholds: judged, probes: probeSummary, series: clientSeries(load) };
  return { result, verdict, aborted, journal: journal.file, rollback: rb };
}
