// `clawstorm export k8s`: ClawStorm's own runners on Kubernetes — an Indexed Job of N runners,
// the judge Job that waits for their results and gives one verdict, the ConfigMap with the target
// profile and the scenario files, a results volume claim, and the Dockerfile of the image.
import fs from 'node:fs';
import path from 'node:path';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ScenarioFile } from '../../config/scenario.ts';
import {
  checkName,
  checkTokens,
  defaultRunId,
  DEFAULTS,
  ExportError,
  labels,
  loadExportTarget,
  loadScenarios,
  targetForPods,
  tokensUsed,
  writeFileSet,
  yamlDocs,
  type ExportOptions,
  type FileSet,
} from '../common.ts';
import { judgeFromResults } from '../judge.ts';
import { checkManifests, ManifestError } from '../manifests.ts';
import { configVolume, judgeContainer, judgeTokenNames, planBoundS, scenarioPath, TARGET_PATH, tokenEnvs } from '../pods.ts';
import { checkRunners, type ExportResult } from '../k6/export.ts';
import { dockerfile } from './dockerfile.ts';
import { runnerCommand, runnerJobProblems } from './runner.ts';

export interface K8sExportOptions extends ExportOptions {
  runners: number;
  /** A ReadWriteMany claim all runners write to and the judge reads; default clawstorm-results. */
  resultsClaim?: string;
}

export const RESULTS_DIR = '/results';
/** Image pulls and pod start-up, on top of the plan's longest run. */
const START_SLACK_S = 600;
/** What the judge may take after the last runner reported (queries, merging, reports). */
const JUDGE_SLACK_S = 900;
/** Pods run as this user; the results volume is group-writable for it (fsGroup). */
const RUN_AS = 65532;

interface Plan {
  run: string;
  namespace: string;
  runners: number;
  profile: string;
  scenarios: readonly ScenarioFile[];
  image: string;
  secret: string;
  claim: string;
  configMap: string;
  waitS: number;
}

function configMap(p: Plan, targetYaml: string): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: p.configMap, namespace: p.namespace, labels: labels(p.run, 'config') },
    data: { 'target.yaml': targetYaml, ...Object.fromEntries(p.scenarios.map((s) => [`${s.name}.yaml`, fs.readFileSync(s.file, 'utf8')])) },
  };
}

function resultsClaim(p: Plan): IPersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: p.claim, namespace: p.namespace, labels: labels(p.run, 'results') },
    spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
  };
}

const podSecurity = { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS };

/** Runners wait at it once ready; the judge, started with them, releases them all at once. */
const barrierFile = (p: Plan): string => `${RESULTS_DIR}/${p.run}/start.json`;

export function runnerJob(p: Plan, target: Parameters<typeof tokenEnvs>[0]): IJob {
  const command = runnerCommand({
    scenarios: p.scenarios.map(scenarioPath),
    profile: p.profile,
    target: TARGET_PATH,
    runners: p.runners,
    run: p.run,
    resultsDir: `${RESULTS_DIR}/${p.run}`,
    barrier: barrierFile(p),
  });
  const lbl = labels(p.run, 'runner');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: checkName(`${p.run}-runners`, 'runner Job name'), namespace: p.namespace, labels: lbl },
    spec: {
      completionMode: 'Indexed',
      completions: p.runners,
      parallelism: p.runners,
      // Each shard runs once: a retried shard would offer its share of the load a second time.
      backoffLimitPerIndex: 0,
      activeDeadlineSeconds: p.waitS,
      template: {
        metadata: { labels: lbl },
        spec: {
          restartPolicy: 'Never',
          securityContext: podSecurity,
          // Spread the runners over nodes where the cluster allows it: one node's CPU is what one runner is for.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: lbl } }],
          containers: [
            {
              name: 'runner',
              image: p.image,
              command,
              env: tokenEnvs(target, p.scenarios.flatMap(tokensUsed), p.secret),
              // A starved load generator measures itself, not the target (ClawStorm then calls the run inconclusive).
              resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } },
              volumeMounts: [
                { name: 'clawstorm-config', mountPath: '/etc/clawstorm', readOnly: true },
                { name: 'results', mountPath: RESULTS_DIR },
              ],
            },
          ],
          volumes: [configVolume(p.configMap, p.scenarios), { name: 'results', persistentVolumeClaim: { claimName: p.claim } }],
        },
      },
    },
  };
}

export function judgeJob(p: Plan, target: Parameters<typeof tokenEnvs>[0]): IJob {
  const command = judgeFromResults({
    run: p.run,
    runners: p.runners,
    profile: p.profile,
    target: TARGET_PATH,
    scenarios: p.scenarios.map(scenarioPath),
    resultsDir: `${RESULTS_DIR}/${p.run}`,
    waitUpToS: p.waitS,
    releaseBarrier: barrierFile(p),
  });
  const container = judgeContainer(p.image, command, tokenEnvs(target, judgeTokenNames(target), p.secret));
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: 'results', mountPath: RESULTS_DIR }];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: checkName(`${p.run}-judge`, 'judge Job name'), namespace: p.namespace, labels: labels(p.run, 'judge') },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: p.waitS + JUDGE_SLACK_S,
      template: {
        metadata: { labels: labels(p.run, 'judge') },
        spec: {
          restartPolicy: 'Never',
          securityContext: podSecurity,
          containers: [container],
          volumes: [configVolume(p.configMap, p.scenarios), { name: 'results', persistentVolumeClaim: { claimName: p.claim } }],
        },
      },
    },
  };
}

export function planK8sExport(o: K8sExportOptions): { files: FileSet; runId: string } {
  const runners = checkRunners(o.runners);
  const run = checkName(o.runId ?? defaultRunId(), 'run id', 40);
  const scenarios = loadScenarios(o.scenarios, o.profile);
  const target = loadExportTarget(o.targetFile);
  checkTokens(scenarios, target.profile);
  const p: Plan = {
    run,
    namespace: o.namespace ?? DEFAULTS.namespace,
    runners,
    profile: o.profile,
    scenarios,
    image: o.image ?? DEFAULTS.image,
    secret: o.secret ?? DEFAULTS.secret,
    claim: checkName(o.resultsClaim ?? 'clawstorm-results', 'results claim name'),
    configMap: checkName(`${run}-config`, 'ConfigMap name'),
    waitS: planBoundS(scenarios, o.profile, START_SLACK_S),
  };
  const cm = configMap(p, targetForPods(target));
  const runnersJob = runnerJob(p, target.profile);
  const judge = judgeJob(p, target.profile);
  const claim = resultsClaim(p);
  checkManifests([cm, runnersJob, judge, claim]);
  const own = runnerJobProblems(runnersJob, runners);
  if (own.length > 0) throw new ManifestError(own);

  const files: FileSet = new Map();
  files.set('k8s/config.yaml', yamlDocs([cm]));
  files.set('k8s/results-claim.yaml', yamlDocs([claim]));
  files.set('k8s/run.yaml', yamlDocs([runnersJob, judge]));
  files.set('Dockerfile', dockerfile());
  files.set('README.md', readme(p, target.profile.name, [...new Set([...scenarios.flatMap(tokensUsed), ...judgeTokenNames(target.profile)])].sort()));
  return { files, runId: run };
}

export function exportK8s(o: K8sExportOptions): ExportResult {
  if (o.outDir.trim() === '') throw new ExportError('--out is required');
  const { files, runId } = planK8sExport(o);
  return { outDir: path.resolve(o.outDir), runId, files: writeFileSet(o.outDir, files) };
}

function readme(p: Plan, targetName: string, tokens: string[]): string {
  return [
    `# Kubernetes export of run ${p.run} (${p.profile} profile, target ${targetName}, ${p.runners} runners)`,
    '',
    'Written by `clawstorm export k8s`; export again rather than editing.',
    '',
    `- \`k8s/run.yaml\`: the runners (an Indexed Job of ${p.runners} pods; pod i runs shard i+1/${p.runners} of every scenario) and the judge Job, which waits for all ${p.runners} results (at most ${p.waitS} s) and gives one verdict.`,
    '- `k8s/config.yaml`: the target profile (tokens as references) and the scenario files.',
    `- \`k8s/results-claim.yaml\`: the ReadWriteMany volume claim \`${p.claim}\` runners write to and the judge reads; use your own claim of that name instead if you have one.`,
    `- \`Dockerfile\`: the image (\`${p.image}\`); build it from the repository root and push it where the cluster pulls from.`,
    '',
    '```sh',
    `docker build -f Dockerfile -t ${p.image} <repository>`,
    `kubectl -n ${p.namespace} create secret generic ${p.secret} ${tokens.map((t) => `--from-literal=${t}=…`).join(' ')}`,
    `kubectl -n ${p.namespace} apply -f k8s/config.yaml -f k8s/results-claim.yaml -f k8s/run.yaml`,
    `kubectl -n ${p.namespace} logs -f job/${p.run}-judge`,
    '```',
    '',
  ].join('\n');
}
