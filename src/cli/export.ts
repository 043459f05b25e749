// clawstorm export k6 | k8s: the scenarios for runs beyond one machine (docs/distributed.md).
import { say } from './output.ts';
import type { Argv, CommandModule } from 'yargs';
import { ProfileError } from '../config/errors.ts';
import { DEFAULTS, ExportError, LOAD_PROFILES, type LoadProfile } from '../export/common.ts';
import { exportK6, type ExportResult } from '../export/k6/export.ts';
import { exportK8s } from '../export/k8s/export.ts';
import { ManifestError } from '../export/manifests.ts';
import { CliError, EXIT } from './errors.ts';


interface CommonArgs {
  scenarios?: string[];
  profile: LoadProfile;
  target: string;
  out: string;
  runners: number;
  'run-id'?: string;
  namespace: string;
  image: string;
  secret: string;
}

interface K6Args extends CommonArgs {
  'remote-write-url'?: string;
}

interface K8sArgs extends CommonArgs {
  'results-claim': string;
}

const common = (y: Argv, runners: string) =>
  y
    .positional('scenarios', { type: 'string', array: true, describe: 'scenario names (dir/name under scenarios/) or YAML files; default the five of the plan' })
    .option('profile', { type: 'string', default: 'smoke', describe: `load shape: ${LOAD_PROFILES.join(' or ')} (pass criteria are the same)` })
    .option('target', { type: 'string', demandOption: true, describe: 'target profile YAML with lb, gateways and prometheus.url (not a local test bed profile); tokens stay references' })
    .option('out', { type: 'string', demandOption: true, describe: 'directory to write into (created)' })
    .option('runners', { type: 'number', default: 1, describe: runners })
    .option('run-id', { type: 'string', describe: 'names the objects and tags the load', defaultDescription: 'UTC time, 20250102-130405' })
    .option('namespace', { type: 'string', default: DEFAULTS.namespace, describe: 'Kubernetes namespace of every object' })
    .option('image', { type: 'string', default: DEFAULTS.image, describe: 'ClawStorm image the judge (and the k8s runners) run' })
    .option('secret', { type: 'string', default: DEFAULTS.secret, describe: 'Secret with the tokens, one key per token name of the target' })
    .check((a) => {
      const n = a.runners as number;
      if (!Number.isInteger(n) || n < 1) return '--runners must be a whole number ≥ 1';
      if (!(LOAD_PROFILES as readonly string[]).includes(a.profile as string)) return `--profile must be ${LOAD_PROFILES.join(' or ')} (got ${JSON.stringify(a.profile)})`;
      return true;
    });

function report(r: ExportResult, what: string): void {
  say(`clawstorm: wrote ${r.files.length} files of run ${r.runId} (${what}) to ${r.outDir}; see ${r.outDir}/README.md`);
  process.exitCode = EXIT.ok;
}

/** Bad input is the caller's to fix: one line, exit 2. */
function asCliError(err: unknown): CliError {
  if (err instanceof ExportError || err instanceof ProfileError || err instanceof ManifestError) return new CliError(err.message, EXIT.usage);
  if (err instanceof RangeError) return new CliError(err.message, EXIT.usage);
  return new CliError((err as Error).message, EXIT.inconclusive);
}

function options(a: CommonArgs) {
  return {
    ...(a.scenarios && a.scenarios.length > 0 ? { scenarios: a.scenarios } : {}),
    profile: a.profile,
    targetFile: a.target,
    outDir: a.out,
    runners: a.runners,
    ...(a['run-id'] !== undefined ? { runId: a['run-id'] } : {}),
    namespace: a.namespace,
    image: a.image,
    secret: a.secret,
  };
}

const k6Command: CommandModule<object, K6Args> = {
  command: 'k6 [scenarios..]',
  describe: 'k6 scripts (TypeScript, @types/k6) and k6-operator TestRuns remote-writing to Prometheus, judged centrally by clawstorm judge',
  builder: (y: Argv) =>
    common(y, 'k6 runners per TestRun (the operator’s parallelism)').option('remote-write-url', {
      type: 'string',
      describe: 'Prometheus remote-write endpoint of the runners',
      defaultDescription: "the target's prometheus.url + /api/v1/write",
    }) as Argv<K6Args>,
  handler: (a) => {
    try {
      report(exportK6({ ...options(a), ...(a['remote-write-url'] !== undefined ? { remoteWriteUrl: a['remote-write-url'] } : {}) }), `${a.profile}, ${a.runners} k6 runners`);
    } catch (err) {
      throw asCliError(err);
    }
  },
};

const k8sCommand: CommandModule<object, K8sArgs> = {
  command: 'k8s [scenarios..]',
  describe: 'ClawStorm runners as a Kubernetes Indexed Job (one shard each), a judge Job, their ConfigMap and the runner image’s Dockerfile',
  builder: (y: Argv) =>
    common(y, 'runners: pods of the Indexed Job, each running shard i/N of every scenario').option('results-claim', {
      type: 'string',
      default: 'clawstorm-results',
      describe: 'ReadWriteMany volume claim the runners write their results to and the judge reads',
    }) as Argv<K8sArgs>,
  handler: (a) => {
    try {
      report(exportK8s({ ...options(a), resultsClaim: a['results-claim'] }), `${a.profile}, ${a.runners} runners`);
    } catch (err) {
      throw asCliError(err);
    }
  },
};

const KINDS = ['k6', 'k8s'];

export const exportCommand: CommandModule = {
  command: 'export <kind>',
  describe: 'write what runs the scenarios beyond one machine: export k6 (k6-operator) or export k8s (ClawStorm runners)',
  builder: (y: Argv) =>
    y
      .command(k6Command as unknown as CommandModule)
      .command(k8sCommand as unknown as CommandModule)
      // Also runs under k6 and k8s, where `kind` is left undefined.
      .check((a) => (a.kind === undefined || KINDS.includes(String(a.kind)) ? true : `unknown export kind ${JSON.stringify(a.kind)}: expected ${KINDS.join(' or ')}`)),
  handler: () => {},
};
