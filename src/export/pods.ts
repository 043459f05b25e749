// Pieces of pod specs both exports write: token environment from the Secret, the judge's pod, and
// how long a judge may wait for a run.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { ScenarioFile } from '../config/scenario.ts';
import type { TargetProfile } from '../config/profile.ts';
import { maxExecutorMs } from '../load/executors/index.ts';
import { tokenEnvVar } from './common.ts';

/** Where the judge's pod finds the target profile and the scenario files (a ConfigMap mount). */
export const CONFIG_DIR = '/etc/clawstorm';
export const TARGET_PATH = `${CONFIG_DIR}/target.yaml`;
export const scenarioPath = (s: ScenarioFile): string => `${CONFIG_DIR}/scenarios/${s.name}.yaml`;

export function secretEnv(name: string, secret: string, key: string): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** One variable per token name, from the Secret key of the same name. */
export function tokenEnvs(target: TargetProfile, names: Iterable<string>, secret: string): IEnvVar[] {
  return [...new Set(names)].sort().map((n) => secretEnv(tokenEnvVar(target.tokens[n], n), secret, n));
}

/** Tokens the judge needs: the one it sends to Prometheus, if the target names one. */
export function judgeTokenNames(target: TargetProfile): string[] {
  return target.prometheus.token === undefined ? [] : [target.prometheus.token];
}

/**
 * Longest a judge waits for its runners: the longest any scenario can run (start time, schedule,
 * graceful stop) run one after another, plus `slackS` for pulling images and starting pods.
 */
export function planBoundS(scenarios: readonly ScenarioFile[], profile: string, slackS: number): number {
  const ms = scenarios.reduce((a, s) => a + maxExecutorMs(s.profiles[profile] as NonNullable<ScenarioFile['profiles'][string]>), 0);
  return Math.ceil(ms / 1000) + slackS;
}

export function judgeContainer(image: string, command: string[], env: IEnvVar[]): IContainer {
  return {
    name: 'judge',
    image,
    command,
    env,
    volumeMounts: [{ name: 'clawstorm-config', mountPath: CONFIG_DIR, readOnly: true }],
  };
}

/** The judge ConfigMap's items laid out as the judge expects them under CONFIG_DIR. */
export function configVolume(configMap: string, scenarios: readonly ScenarioFile[]): { name: string; configMap: { name: string; items: Array<{ key: string; path: string }> } } {
  return {
    name: 'clawstorm-config',
    configMap: {
      name: configMap,
      items: [{ key: 'target.yaml', path: 'target.yaml' }, ...scenarios.map((s) => ({ key: `${s.name}.yaml`, path: `scenarios/${s.name}.yaml` }))],
    },
  };
}
