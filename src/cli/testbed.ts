// clawstorm testbed up | status | down | list
import { say, stdout } from './output.ts';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { stopAllTestbeds, stopTestbed, type StopReport } from '../testbed/down.ts';
import { displayUrl } from '../testbed/database.ts';
import { latestTestbed, listTestbeds, resolveStateDir, stateRoot } from '../testbed/state.ts';
import { testbedStatus, type TestbedStatus } from '../testbed/status.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import { startTestbed } from '../testbed/up.ts';
import { startScalingBed } from '../scale/bed.ts';
import { replicaHistory, type ReplicaHistory } from '../scale/history.ts';
import { CliError, EXIT, InterruptedError } from './errors.ts';
import { planOptionsFrom, wholeSeconds } from './scale.ts';

const out = stdout;
const err = say;

/** The bed a status/down command means: positional, --state-dir, or the newest one. */
function pickBed(bed: string | undefined, stateDir: string | undefined): string | undefined {
  const given = stateDir ?? bed;
  if (given !== undefined) return resolveStateDir(given);
  return latestTestbed()?.stateDir;
}

interface UpArgs {
  gateways: 'reference' | 'openclaw';
  replicas?: number;
  json: boolean;
  'state-dir'?: string;
  'database-url'?: string;
  'keep-on-failure': boolean;
  pglite: boolean;
  autoscale?: string;
  'sync-period': string;
  metric?: string[];
  requests?: string;
  guardrails: string;
  'canary-cap'?: number;
  'canary-active-query'?: string;
}

const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'start a test bed (N gateways behind HAProxy, exporters, Prometheus; for the reference fleet also redis, audit store, upstreams, policy sidecars) and leave it running',
  builder: (y: Argv) =>
    y
      .option('gateways', {
        choices: ['reference', 'openclaw'] as const,
        default: 'reference' as const,
        describe: "reference: ClawStorm's reference fleet; openclaw: real OpenClaw gateways (npm openclaw, pinned, installed once into the cache)",
      })
      .option('replicas', { type: 'number', describe: 'gateways (reference: each with its policy sidecar)', defaultDescription: '3 (openclaw: 2)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the endpoints as JSON on stdout (progress stays on stderr)' })
      .option('state-dir', { type: 'string', describe: `directory for this bed (default ${stateRoot()}/<id>, root overridable with CLAWSTORM_STATE_DIR)` })
      .option('database-url', {
        type: 'string',
        describe: 'loopback PostgreSQL to create the bed database on (default env DATABASE_URL; else embedded PGlite)',
        defaultDescription: '$DATABASE_URL',
      })
      .option('pglite', { type: 'boolean', default: false, describe: 'embedded PGlite audit store even when a loopback PostgreSQL answers (also CLAWSTORM_DATABASE=pglite)' })
      .option('keep-on-failure', { type: 'boolean', default: false, describe: 'leave started processes running when up fails (debugging)' })
      .option('autoscale', {
        type: 'string',
        describe: "an autoscaling/v2 HPA or KEDA ScaledObject YAML: the bed runs it as a controller loop that starts and stops reference gateways (starts at its minReplicas; decisions in <state>/autoscale/log.jsonl)",
      })
      .option('sync-period', { type: 'string', default: '5s', describe: "with --autoscale: the HPA sync period (15s in a cluster; shortened for a small machine, recorded in the log)" })
      .option('metric', { type: 'string', array: true, describe: 'with --autoscale: NAME=PROMQL for an External/Object metric (as for scale replay)' })
      .option('requests', { type: 'string', describe: 'with --autoscale: per-gateway requests for Resource utilisation, e.g. cpu=500m,memory=512Mi' })
      .option('guardrails', { type: 'string', default: 'degraded,disk', describe: 'with --autoscale: guardrails applied (degraded, disk, or none)' })
      .option('canary-cap', { type: 'number', describe: 'with --autoscale: at most this many replicas while a canary is active' })
      .option('canary-active-query', { type: 'string', describe: 'with --autoscale: PromQL whose value > 0 means a canary is active' })
      // A string (not a throw) makes it a usage error: exit 2.
      .check((a) => {
        if (a.autoscale !== undefined && a.gateways === 'openclaw') return '--autoscale starts and stops reference gateways: it cannot run with --gateways openclaw';
        const max = a.gateways === 'openclaw' ? 8 : 32;
        return a.replicas === undefined || (Number.isInteger(a.replicas) && a.replicas >= 1 && a.replicas <= max) ? true : `--replicas must be an integer 1–${max}`;
      }),
  handler: async (a) => {
    const t0 = Date.now();
    const ac = new AbortController();
    const onSig = () => {
      err('interrupted: stopping what already started…');
      ac.abort(new InterruptedError('interrupted: the test bed was stopped again'));
    };
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    try {
      const common = {
        ...(a.replicas === undefined ? {} : { replicas: a.replicas }),
        stateDir: a['state-dir'],
        databaseUrl: a['database-url'],
        pglite: a.pglite,
        json: a.json,
        keepOnFailure: a['keep-on-failure'],
        signal: ac.signal,
        onProgress: (line: string) => err(line),
      };
      const ep =
        a.autoscale === undefined
          ? await startTestbed({ gateways: a.gateways, ...common })
          : await startScalingBed({
              ...common,
              autoscale: {
                file: a.autoscale,
                syncPeriodSeconds: wholeSeconds(a['sync-period'], '--sync-period'),
                plan: planOptionsFrom({ metric: a.metric, requests: a.requests, guardrails: a.guardrails, 'canary-cap': a['canary-cap'], 'canary-active-query': a['canary-active-query'] }),
              },
            });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (a.json) out(JSON.stringify(ep, null, 2));
      else printEndpoints(ep, secs);
    } finally {
      process.removeListener('SIGINT', onSig);
      process.removeListener('SIGTERM', onSig);
    }
  },
};

function printEndpoints(ep: AnyTestbedEndpoints, secs: string): void {
  const row = (k: string, v: string) => out(`  ${k.padEnd(14)} ${v}`);
  out(`test bed ${ep.id} is up (${secs} s)`);
  row('state dir', ep.stateDir);
  row('load balancer', ep.lb.url);
  row('haproxy', `stats ${ep.haproxy.statsUrl} · metrics ${ep.haproxy.metricsUrl} · socket ${ep.haproxy.socket}`);
  row('prometheus', ep.prometheus.url);
  for (const g of ep.gateways) row(g.id, `${g.url}  (${g.az}, haproxy server ${g.server})`);
  if (ep.kind === 'openclaw') {
    row('openclaw', `${ep.openclaw.version} (${ep.openclaw.packageDir})`);
    for (const g of ep.gateways) row(`${g.id} files`, path.dirname(g.configFile));
  } else {
    for (const p of ep.policies) row(p.id, `${p.url}  (sidecar of ${p.gateway})`);
    row('upstreams', ep.upstreams.url);
    row('redis', ep.redis.url);
    row('database', `${ep.database.kind} ${displayUrl(ep.database.url)}`);
  }
  row('exporters', ep.exporters.map((e) => `${e.job} ${e.url}`).join(' · ') || 'none');
  row('tokens', `${Object.values(ep.tokenFiles).join(' ')} (mode 0600)`);
  out(`stop it with: clawstorm testbed down ${ep.id}`);
}

const statusCommand: CommandModule<object, { bed?: string; json: boolean; 'state-dir'?: string }> = {
  command: 'status [bed]',
  describe: 'processes alive, HAProxy server states, Prometheus targets (exit 3 unless everything is healthy)',
  builder: (y: Argv) =>
    y
      .positional('bed', { type: 'string', describe: 'test bed id or state dir (default: the newest)' })
      .option('state-dir', { type: 'string', describe: 'state dir of the bed' })
      .option('json', { type: 'boolean', default: false }),
  handler: async (a) => {
    const dir = pickBed(a.bed, a['state-dir']);
    if (dir === undefined) throw new CliError(`no test bed under ${stateRoot()} (start one with: clawstorm testbed up)`, EXIT.usage);
    const s = await testbedStatus(dir);
    const history = replicaHistory(s.stateDir);
    if (a.json) out(JSON.stringify(history === null ? s : { ...s, autoscale: history }, null, 2));
    else printStatus(s, history);
    process.exitCode = s.ok ? EXIT.ok : EXIT.inconclusive;
  },
};

function printStatus(s: TestbedStatus, h: ReplicaHistory | null): void {
  out(`test bed ${s.id}: ${s.phase}${s.ok ? ', healthy' : s.phase === 'up' ? ', NOT healthy' : ''} (started ${s.startedAt}, ${s.stateDir})`);
  if (s.error) out(`  error: ${s.error}`);
  out('  processes:');
  for (const p of s.processes) {
    const state = !p.alive ? 'dead' : p.stopped ? 'STOPPED (SIGSTOP)' : p.healthy === false ? 'alive, unhealthy' : p.healthy ? 'alive, healthy' : 'alive';
    out(`    ${p.name.padEnd(18)} pid ${String(p.pid).padEnd(8)} ${state}`);
  }
  if (s.haproxy) {
    out('  haproxy servers:');
    if ('error' in s.haproxy) out(`    unreachable: ${s.haproxy.error}`);
    else for (const v of s.haproxy.servers) out(`    ${v.name.padEnd(8)} ${v.opState.padEnd(8)} ${v.status.padEnd(10)} admin ${v.adminState.padEnd(6)} weight ${v.weight} check ${v.checkStatus}`);
  }
  if (s.prometheus) {
    out('  prometheus targets:');
    if ('error' in s.prometheus) out(`    unreachable: ${s.prometheus.error}`);
    else for (const t of s.prometheus.targets) out(`    ${t.job.padEnd(10)} ${t.instance.padEnd(22)} ${t.up ? 'up' : `DOWN ${t.lastError}`}`);
  }
  for (const n of s.notes) out(`  note: ${n}`);
  if (h !== null) {
    out(`  autoscaler: ${h.source} from ${h.file}, sync every ${h.syncPeriodSeconds} s (read ${h.settleSeconds} s after), ${h.syncs} syncs${h.undecided ? ` (${h.undecided} without a decision)` : ''}, asking for ${h.current ?? '--'} replicas`);
    out('  replica history:');
    if (h.events.length === 0) out('    (no scale event yet)');
    for (const e of h.events) out(`    ${e.at}  ${e.text}`);
  }
}

const downCommand: CommandModule<object, { bed?: string; all: boolean; purge: boolean; json: boolean; 'state-dir'?: string }> = {
  command: 'down [bed]',
  describe: 'stop a test bed: every process it recorded and nothing else; drops its database (exit 3 if something is left)',
  builder: (y: Argv) =>
    y
      .positional('bed', { type: 'string', describe: 'test bed id or state dir (default: the newest)' })
      .option('state-dir', { type: 'string', describe: 'state dir of the bed' })
      .option('all', { type: 'boolean', default: false, describe: `every test bed under ${stateRoot()}` })
      .option('purge', { type: 'boolean', default: false, describe: 'also delete the state dir (logs, data) after a clean stop' })
      .option('json', { type: 'boolean', default: false }),
  handler: async (a) => {
    let reports: StopReport[];
    if (a.all) {
      reports = await stopAllTestbeds({ purge: a.purge });
    } else {
      const dir = pickBed(a.bed, a['state-dir']);
      if (dir === undefined) {
        err(`no test bed under ${stateRoot()}: nothing to stop`);
        reports = [];
      } else {
        reports = [await stopTestbed(dir, { purge: a.purge })];
      }
    }
    if (a.json) out(JSON.stringify(reports, null, 2));
    else for (const r of reports) printStop(r);
    process.exitCode = reports.every((r) => r.problems.length === 0) ? EXIT.ok : EXIT.inconclusive;
  },
};

function printStop(r: StopReport): void {
  const parts = [`stopped ${r.stopped.length}`];
  if (r.alreadyGone.length) parts.push(`already gone ${r.alreadyGone.length}`);
  if (r.leftAlone.length) parts.push(`left alone (pid reused) ${r.leftAlone.join(', ')}`);
  if (r.droppedDatabase) parts.push(`dropped database ${r.droppedDatabase}`);
  if (r.purged) parts.push('state dir removed');
  out(`test bed ${r.id} down: ${parts.join('; ')}${r.purged ? '' : ` (logs in ${r.stateDir})`}`);
  for (const p of r.problems) out(`  problem: ${p}`);
}

const listCommand: CommandModule<object, { json: boolean }> = {
  command: 'list',
  describe: `test beds under ${stateRoot()}, newest first`,
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false }),
  handler: (a) => {
    const all = listTestbeds().map((t) => ({ id: t.state.id, phase: t.state.phase, startedAt: t.state.startedAt, stateDir: t.stateDir }));
    if (a.json) out(JSON.stringify(all, null, 2));
    else if (all.length === 0) out(`no test beds under ${stateRoot()}`);
    else for (const t of all) out(`${t.id}  ${t.phase.padEnd(8)}  ${t.startedAt}  ${t.stateDir}`);
  },
};

export const testbedCommand: CommandModule = {
  command: 'testbed',
  describe: 'start, inspect and stop the local test bed',
  builder: (y: Argv) =>
    y
      .command(upCommand)
      .command(statusCommand)
      .command(downCommand)
      .command(listCommand)
      .demandCommand(1, 'name a testbed command: up, status, down or list'),
  handler: () => {},
};
