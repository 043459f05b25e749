// ClawStorm runners as one Kubernetes Indexed Job: N pods started together, pod i (from
// JOB_COMPLETION_INDEX) running shard i+1 of N — k6's execution segment (i)/N:(i+1)/N — of every
// scenario, so the N pods together offer exactly the plan. Each writes its histograms and counts
// under the shared results directory; the judge merges them into one verdict.
import type { IJob } from 'kubernetes-models/batch/v1';
import { CONFIG_DIR } from '../pods.ts';

export interface RunnerInvocation {
  /** Scenario files as the pod sees them. */
  scenarios: readonly string[];
  profile: string;
  /** Target profile as the pod sees it. */
  target: string;
  runners: number;
  run: string;
  /** Where every runner writes its results (a volume all runners and the judge share). */
  resultsDir: string;
  /** The start-barrier file every runner waits for once ready (the judge releases it). */
  barrier: string;
}

/** Quote one word for /bin/sh. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The runner's command line, in one place (its flags are the lead's `clawstorm run` sharding
 * flags). A shell computes the shard from the index Kubernetes gives the pod. A shard runner
 * measures and writes; it does not judge (one runner's share says nothing about the run), so it
 * exits 0 once its results are written and non-zero only when it could not run.
 */
export function runnerCommand(i: RunnerInvocation): string[] {
  const shard = `"$((JOB_COMPLETION_INDEX + 1))/${i.runners}"`;
  const words = [
    'exec',
    'clawstorm',
    'run',
    ...i.scenarios.map(shQuote),
    '--profile',
    shQuote(i.profile),
    '--target',
    shQuote(i.target),
    '--shard',
    shard,
    '--runner-id',
    `"${i.run}-$((JOB_COMPLETION_INDEX + 1))"`,
    '--results-dir',
    shQuote(i.resultsDir),
    '--barrier',
    shQuote(i.barrier),
  ];
  return ['/bin/sh', '-c', words.join(' ')];
}

/**
 * What makes a runner Job offer the plan exactly, beyond what the API server checks: N pods, all
 * at once, each index once (a retried shard would offer its share twice), and the shard taken from
 * the pod's index.
 */
export function runnerJobProblems(job: IJob, runners: number): string[] {
  const where = `Job/${job.metadata?.name ?? '(no name)'}`;
  const spec = job.spec;
  const out: string[] = [];
  if (spec?.completionMode !== 'Indexed') out.push(`${where}: completionMode must be Indexed (each pod takes the shard of its index)`);
  if (spec?.completions !== runners) out.push(`${where}: completions must be ${runners}, one per shard (got ${String(spec?.completions)})`);
  if (spec?.parallelism !== runners) out.push(`${where}: parallelism must be ${runners}: all shards run at the same time (got ${String(spec?.parallelism)})`);
  if (spec?.backoffLimitPerIndex !== 0) out.push(`${where}: backoffLimitPerIndex must be 0: a failed shard is not run again`);
  if (spec?.template.spec?.restartPolicy !== 'Never') out.push(`${where}: restartPolicy must be Never: a restarted runner would offer its share twice`);
  const runner = spec?.template.spec?.containers.find((c) => c.name === 'runner');
  const cmd = (runner?.command ?? []).join(' ');
  if (!cmd.includes(`--shard "$((JOB_COMPLETION_INDEX + 1))/${runners}"`)) out.push(`${where}: the runner must take --shard from JOB_COMPLETION_INDEX, of ${runners}`);
  if (!(runner?.volumeMounts ?? []).some((m) => m.mountPath === CONFIG_DIR)) out.push(`${where}: the runner must mount its target and scenarios at ${CONFIG_DIR}`);
  return out;
}
