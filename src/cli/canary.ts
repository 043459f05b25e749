// clawstorm canary --canary <gateway> [--steps 10,30,50,70,90,100] [--analysis FILE…] [--load <scenario>]
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadTemplateFile, AnalysisTemplateError, type AnalysisTemplate } from '../canary/analysis-template.ts';
import { BackgroundLoad } from '../canary/background-load.ts';
import { runCanary, type CanaryOptions } from '../canary/ramp.ts';
import { canaryResults, canarySection } from '../canary/results.ts';
import { parseSteps } from '../canary/weights.ts';
import { ProfileError } from '../config/errors.ts';
import { Journal, JournalError } from '../faults/journal.ts';
import type { AdmissionPatch, FaultPatch } from '../faults/actions.ts';
import { writeReports } from '../report/write.ts';
import { exitCodeForError } from '../score/verdict.ts';
import { ChaosTargetError, withChaosTarget, type ChaosTarget } from '../target/target.ts';
import { parseDuration } from '../util/duration.ts';
import { newRunId, timeStamp } from '../util/ids.ts';
import { interruptible } from './drill.ts';
import { CliError, EXIT } from './errors.ts';
import { say, stdout } from './output.ts';

/** The plan's built-in template (SPEC §4), an Argo AnalysisTemplate like any user's. */
export const PLAN_TEMPLATE = path.resolve(import.meta.dirname, '../../scenarios/canary/plan-analysis.yaml');
/**
 * The plan's criteria as far as a bed of real OpenClaw gateways exposes them (HAProxy's
 * per-server series, the blackbox /readyz probe): the default there instead of PLAN_TEMPLATE.
 */
export const OPENCLAW_TEMPLATE = path.resolve(import.meta.dirname, '../../scenarios/canary/openclaw-analysis.yaml');
const BUILTIN_TEMPLATES = new Set([PLAN_TEMPLATE, OPENCLAW_TEMPLATE]);

interface CanaryArgs {
  canary: string;
  steps: string;
  analysis?: string[];
  arg?: string[];
  load?: string;
  'load-profile': string;
  target?: string;
  'testbed-state'?: string;
  out?: string;
  window: string;
  'step-timeout': string;
  rate: number;
  'hooks-rate': number;
  tool: string;
  simulate?: string;
  surge?: string;
  journal?: string;
}

/** `--arg a=1` → {a: '1'}. */
export function parseArgs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list ?? []) {
    const i = s.indexOf('=');
    if (i <= 0) throw new CliError(`clawstorm canary: --arg ${JSON.stringify(s)}: expected name=value`, EXIT.usage);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/** `errorRate=0.02@30` or `latencyMs=80@50`: a bad version on the canary from that step. */
export function parseSimulate(text: string | undefined): CanaryOptions['simulate'] {
  if (text === undefined) return undefined;
  const m = /^(errorRate|latencyMs|degraded)=([^@]+)@(\d+)$/.exec(text.trim());
  if (m === null) throw new CliError(`clawstorm canary: --simulate ${JSON.stringify(text)}: expected errorRate=0.02@30, latencyMs=80@30 or degraded=true@30`, EXIT.usage);
  const [, key, raw, at] = m;
  let patch: FaultPatch;
  if (key === 'degraded') {
    if (raw !== 'true') throw new CliError('clawstorm canary: --simulate degraded=true@<percent>', EXIT.usage);
    patch = { degraded: true };
  } else {
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0 || (key === 'errorRate' && v > 1)) throw new CliError(`clawstorm canary: --simulate ${key}=${raw}: not a valid value`, EXIT.usage);
    patch = key === 'errorRate' ? { errorRate: v } : { latencyMs: Math.round(v) };
  }
  return { atPercent: Number(at), patch };
}

const SURGE_KEYS = ['load', 'maxInFlight', 'queueLimit', 'retryAfterS'] as const;
const SURGE_USAGE = 'expected e.g. load=2x,maxInFlight=1@50 (load=<factor>x, default 2x; maxInFlight, queueLimit, retryAfterS: the canary\'s admission)';

/**
 * `load=2x,maxInFlight=1@50`: a capacity surge from the 50 % step — the judged traffic's offered
 * load doubles and the canary's admission bound is lowered (reference gateways' PUT /admin/hooks,
 * journalled with its undo). `maxInFlight=1@50` alone doubles the load too.
 */
export function parseSurge(text: string | undefined): CanaryOptions['surge'] {
  if (text === undefined) return undefined;
  const m = /^([^@]*)@(\d+)$/.exec(text.trim());
  if (m === null) throw new CliError(`clawstorm canary: --surge ${JSON.stringify(text)}: ${SURGE_USAGE}`, EXIT.usage);
  let loadFactor = 2;
  const admission: AdmissionPatch = {};
  for (const part of m[1]!.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const kv = /^([A-Za-z]+)=(.+)$/.exec(part);
    const key = kv?.[1] as (typeof SURGE_KEYS)[number] | undefined;
    if (kv === null || key === undefined || !SURGE_KEYS.includes(key)) throw new CliError(`clawstorm canary: --surge ${JSON.stringify(text)}: ${JSON.stringify(part)}: ${SURGE_USAGE}`, EXIT.usage);
    const raw = kv[2]!;
    if (key === 'load') {
      const f = /^(\d+(?:\.\d+)?)x$/.exec(raw);
      const v = f === null ? NaN : Number(f[1]);
      if (!(v > 1 && v <= 10)) throw new CliError(`clawstorm canary: --surge load=${raw}: expected a factor within (1, 10] like 2x`, EXIT.usage);
      loadFactor = v;
    } else {
      const v = Number(raw);
      if (!Number.isInteger(v) || v < 1) throw new CliError(`clawstorm canary: --surge ${key}=${raw}: expected a whole number ≥ 1`, EXIT.usage);
      admission[key] = v;
    }
  }
  return { atPercent: Number(m[2]), loadFactor, admission };
}

/**
 * Compile every template with the canary's arguments: `canary` and `stable` go to every template
 * that declares them, `--window` only to the plan template (a user's template keeps its own
 * declared values unless `--arg` says otherwise), `--arg`s over everything.
 */
function compileTemplates(files: readonly string[], args: Record<string, string>, window: string): AnalysisTemplate[] {
  return files.flatMap((f) => {
    const file = path.resolve(f);
    const { window: _userWindow, ...rest } = args;
    const own = BUILTIN_TEMPLATES.has(file) ? { window, ...args } : { ...rest, ...(_userWindow !== undefined ? { window: _userWindow } : {}) };
    // Reports name the file as the user gave it relative to here, never a host path.
    const shown = path.relative(process.cwd(), file);
    return loadTemplateFile(file, { args: own }).map((t) => ({ ...t, source: shown.startsWith('..') ? path.basename(file) : shown }));
  });
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templateArgs(t: ChaosTarget | undefined, canary: string, user: Record<string, string>): Record<string, string> {
  const g = t?.gateways.find((x) => x.name === canary || x.server === canary);
  const stable = t === undefined ? ['stable'] : t.gateways.filter((x) => x !== g).map((x) => escapeRegex(x.name));
  return { canary: g?.name ?? canary, stable: stable.join('|'), ...user };
}

function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof AnalysisTemplateError || err instanceof ProfileError || err instanceof JournalError || err instanceof ChaosTargetError) return new CliError(err.message, err.exitCode);
  if (err instanceof RangeError) return new CliError(`clawstorm canary: ${err.message}`, EXIT.usage);
  return new CliError((err as Error).message, exitCodeForError(err));
}

export const canaryCommand: CommandModule<object, CanaryArgs> = {
  command: 'canary',
  describe: 'ramp traffic onto one gateway step by step under load, with Argo-style analysis and a canary-vs-stable judge after each step; exit 0 promote · 1 abort or hold-and-scale · 2 usage · 3 inconclusive',
  builder: (y: Argv) =>
    y
      .option('canary', { type: 'string', demandOption: true, describe: 'the canary gateway (profile name or load balancer server name)' })
      .option('steps', { type: 'string', default: '10,30,50,70,90,100', describe: 'canary traffic percent per step' })
      .option('analysis', { type: 'string', array: true, describe: 'Argo AnalysisTemplate / ClusterAnalysisTemplate YAML (prometheus provider); default the plan template scenarios/canary/plan-analysis.yaml (on a bed of real OpenClaw gateways scenarios/canary/openclaw-analysis.yaml)' })
      .option('arg', { type: 'string', array: true, describe: 'template argument name=value (repeatable); canary, stable and window are filled in' })
      .option('load', { type: 'string', describe: 'a gate scenario to run behind the canary the whole time (e.g. policy-evaluation)' })
      .option('load-profile', { type: 'string', default: 'smoke', describe: 'profile of the --load scenario' })
      .option('target', { type: 'string', describe: 'target profile YAML (allowChaos: true; canary.setWeight names the weight command); default the newest running local test bed' })
      .option('testbed-state', { type: 'string', describe: 'a running local test bed (state dir or id)' })
      .option('out', { type: 'string', describe: 'directory for results.json, results.md, junit.xml, report.html', defaultDescription: 'reports/runs/<time>-canary' })
      .option('window', { type: 'string', default: '10s', describe: 'analysis window of the plan template (each step lasts two windows)' })
      .option('step-timeout', { type: 'string', default: '5m', describe: 'longest a step analysis may run' })
      .option('rate', { type: 'number', default: 20, describe: 'judged tool calls per second through the load balancer' })
      .option('tool', { type: 'string', default: 'sessions_list', describe: 'the tool the judged traffic invokes' })
      .option('hooks-rate', { type: 'number', default: 0, describe: 'judged webhook deliveries per second besides the tool calls (their admission rejections are judged too)' })
      .option('simulate', { type: 'string', describe: 'simulate a bad version on the canary (reference gateways): errorRate=0.02@30, latencyMs=80@30 or degraded=true@30' })
      .option('surge', { type: 'string', describe: "a capacity surge from one step: the judged load doubles (load=<factor>x) and the canary's admission is lowered (reference gateways), e.g. load=2x,maxInFlight=1@50" })
      .option('journal', { type: 'string', describe: 'journal file (for clawstorm drill rollback)' }) as Argv<CanaryArgs>,
  handler: async (a) => {
    let journalFile: string | undefined;
    const intr = interruptible(() => journalFile);
    try {
      const steps = parseSteps(a.steps);
      const simulate = parseSimulate(a.simulate);
      if (simulate !== undefined && !steps.includes(simulate.atPercent)) throw new CliError(`clawstorm canary: --simulate …@${simulate.atPercent}: no step at ${simulate.atPercent} % (steps ${steps.join(', ')})`, EXIT.usage);
      const surge = parseSurge(a.surge);
      if (surge !== undefined && !steps.includes(surge.atPercent)) throw new CliError(`clawstorm canary: --surge …@${surge.atPercent}: no step at ${surge.atPercent} % (steps ${steps.join(', ')})`, EXIT.usage);
      const user = parseArgs(a.arg);
      parseDuration(a.window);
      const stepTimeoutMs = parseDuration(a['step-timeout']);
      if (!(a.rate > 0)) throw new CliError('clawstorm canary: --rate must be > 0', EXIT.usage);
      const given = a.analysis && a.analysis.length > 0 ? a.analysis : undefined;
      // No --analysis: the plan template, or its real-gateway form on a bed of real OpenClaw gateways.
      const filesFor = (t: ChaosTarget | undefined) => given ?? [t?.testbed?.kind === 'openclaw' ? OPENCLAW_TEMPLATE : PLAN_TEMPLATE];
      // Every template is read and checked before anything starts (exit 2 on a bad one).
      for (const f of given ?? [...BUILTIN_TEMPLATES]) compileTemplates([f], templateArgs(undefined, a.canary, user), a.window);
      const load = a.load === undefined ? undefined : new BackgroundLoad(a.load, a['load-profile']);
      const runId = newRunId('canary');
      const out = await withChaosTarget(
        { ...(a.target !== undefined ? { targetFile: a.target } : {}), ...(a['testbed-state'] !== undefined ? { testbedStateDir: a['testbed-state'] } : {}), what: 'canary', chaos: true, signal: intr.signal, log: say },
        async (t) => {
          // The admission change of a surge is a reference gateway's admin control.
          if (surge !== undefined && Object.keys(surge.admission).length > 0 && (t.testbed?.kind === 'openclaw' || t.tokens.admin === undefined)) {
            throw new CliError(`clawstorm canary: --surge ${a.surge}: changing the canary's admission needs the reference gateways' admin API (this target has none); load=<factor>x@<percent> alone surges the load`, EXIT.usage);
          }
          const templates = compileTemplates(filesFor(t), templateArgs(t, a.canary, user), a.window);
          const journal = Journal.create({ ...(a.journal ? { file: path.resolve(a.journal) } : {}), id: runId, drill: 'canary', target: t.ref });
          journalFile = journal.file;
          say(`journal: ${journal.file}`);
          load?.start(t, runId, say);
          try {
            const run = await runCanary({
              target: t,
              canary: a.canary,
              steps,
              templates,
              traffic: { rate: a.rate, tool: a.tool, timeoutMs: 10_000, runId, hooksRate: a['hooks-rate'] },
              journal,
              stepTimeoutMs,
              signal: intr.signal,
              log: say,
              ...(simulate ? { simulate } : {}),
              ...(surge ? { surge } : {}),
            });
            return { run, templates, targetName: t.profile.name };
          } finally {
            const summary = await load?.stop();
            if (summary) say(`background load ${summary.scenario}: ${summary.runs} run(s), ${summary.requests} requests, ${summary.errors} errors`);
          }
        },
      );
      const section = { ...canarySection(out.run, out.templates, steps), load: load?.summary ?? null };
      const reports = writeReports(path.resolve(a.out ?? path.join('reports', 'runs', `${timeStamp()}-canary`)), canaryResults({ runId, target: out.targetName, section }));
      for (const s of section.steps) stdout(`step ${s.percent} %: ${s.phase} (analysis ${s.analysisPhase}; judge ${s.judge ? `${s.judge.score} ${s.judge.classification}` : 'not run'})`);
      stdout(`canary ${section.verdict}${section.classification ? ` (${section.classification.shape})` : ''}: ${section.reason}`);
      stdout(`reports: ${reports.json}, ${reports.markdown}, ${reports.junit}, ${reports.html}`);
      for (const p of reports.problems) say(`results: repaired before writing: ${p}`);
      process.exitCode = reports.results.exitCode;
    } catch (err) {
      throw asCliError(err);
    } finally {
      intr.release();
    }
  },
};
