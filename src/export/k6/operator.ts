// The Kubernetes side of a k6 export: a TestRun per scenario for the k6-operator, the ConfigMaps it
// and the judge read, and a judge Job per scenario that waits for its TestRun and gives the one
// verdict from what all runners remote-wrote.
//
// Runners: `parallelism` k6 processes, each given its execution segment by the operator; they
// write every sample to Prometheus (experimental-prometheus-rw, trends as native histograms, so
// percentiles over all runners come from one merged histogram) and skip thresholds
// (--no-thresholds): a runner's thresholds see one segment, and runners' percentiles cannot be
// combined from their summaries. The operator tags every series with testrun_name and instance_id.
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { ScenarioFile } from '../../config/scenario.ts';
import type { TargetProfile } from '../../config/profile.ts';
import { maxExecutorMs } from '../../load/executors/index.ts';
import { checkName, labels, namePart, tokensUsed } from '../common.ts';
import { judgeFromPrometheus } from '../judge.ts';
import { configVolume, judgeContainer, judgeTokenNames, scenarioPath, secretEnv, TARGET_PATH, tokenEnvs } from '../pods.ts';
import { ENV, RUNTIME_FILE } from './runtime.ts';
import { K6_LABELS } from './series.ts';
import { scriptFileName } from './script.ts';

/** The k6 release the runners use: the features flag for native histograms is read from 2.x on. */
export const K6_IMAGE = 'grafana/k6:2.2.0';
/** For the judge's wait on its TestRun (kubectl's own image, from registry.k8s.io). */
export const KUBECTL_IMAGE = 'registry.k8s.io/kubectl:v1.33.4';
/** Time for the operator's initializer, image pulls and the starter, on top of the plan. */
const START_SLACK_S = 600;

export interface K6ManifestInput {
  run: string;
  namespace: string;
  runners: number;
  profile: string;
  scenarios: readonly ScenarioFile[];
  target: TargetProfile;
  /** Target profile as the pods read it (tokens as env references). */
  targetYaml: string;
  scripts: ReadonlyMap<string, string>;
  /** Scenario name → the scenario file's text (the judge reads pass criteria as written). */
  scenarioYaml: ReadonlyMap<string, string>;
  runtime: string;
  secret: string;
  image: string;
  remoteWriteUrl: string;
}

export interface TestRun {
  apiVersion: 'k6.io/v1alpha1';
  kind: 'TestRun';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    parallelism: number;
    script: { configMap: { name: string; file: string } };
    arguments: string;
    runner: { image: string; env: Array<Record<string, unknown>>; metadata: { labels: Record<string, string> } };
  };
}

export const scriptsConfigMapName = (run: string): string => checkName(`${run}-k6-scripts`, 'ConfigMap name');
export const judgeConfigMapName = (run: string): string => checkName(`${run}-k6-judge`, 'ConfigMap name');
/**
 * A TestRun's name: also the run id of its requests and the `testrun_name` of its series. The
 * operator names runner Jobs and Services after it (`<name>-service-10`), so it stays well short
 * of 63 characters.
 */
export const testRunName = (run: string, s: ScenarioFile): string => checkName(`${run}-${namePart(s.name)}`, 'TestRun name (run id + scenario)', 48);

export function scriptsConfigMap(i: K6ManifestInput): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: scriptsConfigMapName(i.run), namespace: i.namespace, labels: labels(i.run, 'k6-scripts') },
    data: { [RUNTIME_FILE]: i.runtime, ...Object.fromEntries(i.scripts) },
  };
}

export function judgeConfigMap(i: K6ManifestInput): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: judgeConfigMapName(i.run), namespace: i.namespace, labels: labels(i.run, 'judge-config') },
    data: { 'target.yaml': i.targetYaml, ...Object.fromEntries(i.scenarios.map((s) => [`${s.name}.yaml`, i.scenarioYaml.get(s.name) ?? ''])) },
  };
}

/**
 * The k6 arguments of every runner. The operator adds the segment, --paused and the tags
 * instance_id and testrun_name; testrun_name is set here too (same value), so the label the judge
 * selects on does not depend on the operator's version.
 */
export function runnerArguments(run: string, testRun: string): string[] {
  return ['--out', 'experimental-prometheus-rw', '--no-thresholds', '--tag', `${K6_LABELS.testRun}=${testRun}`, '--tag', `${K6_LABELS.run}=${run}`];
}

export function testRun(i: K6ManifestInput, s: ScenarioFile): TestRun {
  const name = testRunName(i.run, s);
  const promToken = judgeTokenNames(i.target);
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name, namespace: i.namespace, labels: labels(i.run, 'k6-testrun', s.name) },
    spec: {
      parallelism: i.runners,
      script: { configMap: { name: scriptsConfigMapName(i.run), file: scriptFileName(s) } },
      arguments: runnerArguments(i.run, name).join(' '),
      runner: {
        image: K6_IMAGE,
        metadata: { labels: labels(i.run, 'k6-runner', s.name) },
        env: [
          { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: i.remoteWriteUrl },
          // Trends as native histograms: one exactly mergeable histogram per series instead of each runner's own percentiles.
          { name: 'K6_FEATURES', value: 'native-histograms' },
          // Mark the series stale when a runner stops, so the end of the run is visible in Prometheus.
          { name: 'K6_PROMETHEUS_RW_STALE_MARKERS', value: 'true' },
          ...(promToken.length > 0 ? [secretEnv('K6_PROMETHEUS_RW_BEARER_TOKEN', i.secret, promToken[0] as string)] : []),
          { name: ENV.runId, value: name },
          ...tokenEnvs(i.target, tokensUsed(s), i.secret),
        ] as unknown as Array<Record<string, unknown>>,
      },
    },
  };
}

export function judgeServiceAccount(i: K6ManifestInput): IServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: checkName(`${i.run}-judge`, 'ServiceAccount name'), namespace: i.namespace, labels: labels(i.run, 'judge') } };
}

/** Lets the judge's init container watch the TestRuns of its namespace, nothing else. */
export function judgeRole(i: K6ManifestInput): IRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${i.run}-judge`, namespace: i.namespace, labels: labels(i.run, 'judge') },
    rules: [{ apiGroups: ['k6.io'], resources: ['testruns'], verbs: ['get', 'list', 'watch'] }],
  };
}

export function judgeRoleBinding(i: K6ManifestInput): IRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${i.run}-judge`, namespace: i.namespace, labels: labels(i.run, 'judge') },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${i.run}-judge` },
    subjects: [{ kind: 'ServiceAccount', name: `${i.run}-judge`, namespace: i.namespace }],
  };
}

/** Seconds the judge waits for its TestRun to finish before giving up (no verdict is not a pass). */
export function judgeWaitS(s: ScenarioFile, profile: string): number {
  return Math.ceil(maxExecutorMs(s.profiles[profile] as NonNullable<ScenarioFile['profiles'][string]>) / 1000) + START_SLACK_S;
}

export function judgeJob(i: K6ManifestInput, s: ScenarioFile): IJob {
  const run = testRunName(i.run, s);
  const waitS = judgeWaitS(s, i.profile);
  const command = judgeFromPrometheus({ run, runners: i.runners, profile: i.profile, target: TARGET_PATH, scenarios: [scenarioPath(s)] });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: checkName(`${run}-judge`, 'judge Job name'), namespace: i.namespace, labels: labels(i.run, 'judge', s.name) },
    spec: {
      // One verdict, given once: a judge that failed is looked at, not run again.
      backoffLimit: 0,
      activeDeadlineSeconds: waitS + 900,
      template: {
        metadata: { labels: labels(i.run, 'judge', s.name) },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: `${i.run}-judge`,
          initContainers: [
            {
              name: 'wait-for-testrun',
              image: KUBECTL_IMAGE,
              command: ['kubectl', 'wait', `testrun/${run}`, '--namespace', i.namespace, '--for=jsonpath={.status.stage}=finished', `--timeout=${waitS}s`],
            },
          ],
          containers: [judgeContainer(i.image, command, tokenEnvs(i.target, judgeTokenNames(i.target), i.secret))],
          volumes: [configVolume(judgeConfigMapName(i.run), [s])],
        },
      },
    },
  };
}
