import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseHpaYaml } from '../../../src/autoscale/hpa/spec.ts';
import { hpaForScaledObject } from '../../../src/autoscale/keda/keda.ts';
import { parseScaledObjectYaml } from '../../../src/autoscale/keda/scaledobject.ts';
import { ManifestError } from '../../../src/autoscale/manifest.ts';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/autoscale');
const HPA_TEXT = fs.readFileSync(path.join(FIXTURES, 'hpa-ws-connections.yaml'), 'utf8');
const KEDA_TEXT = fs.readFileSync(path.join(FIXTURES, 'keda-queue-depth.yaml'), 'utf8');

/** The fixture with one edit applied to its parsed form. */
function edited(text: string, edit: (doc: Record<string, any>) => void): string {
  const doc = YAML.parse(text) as Record<string, any>;
  edit(doc);
  return YAML.stringify(doc);
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error('expected a ManifestError');
}

describe('HorizontalPodAutoscaler YAML', () => {
  it('reads the fixture unchanged, with the values it states', () => {
    const hpa = parseHpaYaml(HPA_TEXT, 'hpa-ws-connections.yaml');
    expect(hpa.name).toBe('openclaw-gateway');
    expect(hpa.minReplicas).toBe(3);
    expect(hpa.maxReplicas).toBe(12);
    expect(hpa.metrics).toEqual([
      { type: 'Pods', key: 'pods/openclaw_ws_connections_active', metricName: 'openclaw_ws_connections_active', target: { type: 'AverageValue', averageValue: 200_000 } },
      { type: 'Resource', key: 'resource/cpu', resource: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
    ]);
    expect(hpa.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 60,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 2, periodSeconds: 60 },
          { type: 'Percent', value: 50, periodSeconds: 60 },
        ],
        tolerance: null,
      },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }], tolerance: null },
    });
  });

  it('fills the API defaults: minReplicas 1, CPU 80 %, and the default policies of an unset direction', () => {
    const hpa = parseHpaYaml(
      edited(HPA_TEXT, (d) => {
        delete d.spec.minReplicas;
        delete d.spec.metrics;
        d.spec.behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
      }),
    );
    expect(hpa.minReplicas).toBe(1);
    expect(hpa.metrics).toEqual([{ type: 'Resource', key: 'resource/cpu', resource: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } }]);
    expect(hpa.behavior?.scaleUp).toEqual({
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
      tolerance: null,
    });
    expect(hpa.behavior?.scaleDown).toEqual({ stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: null });
  });

  it('without a behavior block takes the legacy path (behavior null)', () => {
    expect(parseHpaYaml(edited(HPA_TEXT, (d) => delete d.spec.behavior)).behavior).toBeNull();
  });

  it('reads per-direction tolerances', () => {
    const hpa = parseHpaYaml(edited(HPA_TEXT, (d) => (d.spec.behavior.scaleUp.tolerance = '0.05')));
    expect(hpa.behavior?.scaleUp.tolerance).toBe(0.05);
    expect(hpa.behavior?.scaleDown.tolerance).toBeNull();
  });

  it('picks the HPA out of a multi-document file', () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata: {name: gw}\nspec: {ports: [{port: 80}]}\n---\n${HPA_TEXT}`;
    expect(parseHpaYaml(text).name).toBe('openclaw-gateway');
  });

  it.each([
    ['maxReplicas not a number', (d: any) => (d.spec.maxReplicas = 'ten'), /spec\.maxReplicas: must be integer/],
    ['policy without periodSeconds', (d: any) => delete d.spec.behavior.scaleUp.policies[0].periodSeconds, /spec\.behavior\.scaleUp\.policies\[0\]\.periodSeconds: required/],
    ['a misspelt field', (d: any) => (d.spec.behavior.scaleDown.stabilizationWindow = 60), /spec\.behavior\.scaleDown: unknown field "stabilizationWindow"/],
    ['a Pods metric with a Utilization target', (d: any) => (d.spec.metrics[0].pods.target = { type: 'Utilization', averageUtilization: 50 }), /spec\.metrics\[0\]\.pods\.target\.type: must be AverageValue/],
    ['a target that is not a quantity', (d: any) => (d.spec.metrics[0].pods.target.averageValue = 'lots'), /spec\.metrics\[0\]\.pods\.target\.averageValue: must be a quantity such as "500m"/],
    ['a source that does not match the type', (d: any) => (d.spec.metrics[1].type = 'Pods'), /spec\.metrics\[1\]\.pods: required for a metric of type Pods/],
    ['maxReplicas below minReplicas', (d: any) => (d.spec.maxReplicas = 2), /spec\.maxReplicas: must be greater than or equal to minReplicas \(3\)/],
    ['minReplicas 0', (d: any) => (d.spec.minReplicas = 0), /spec\.minReplicas: must be at least 1/],
    ['a period above 30 minutes', (d: any) => (d.spec.behavior.scaleDown.policies[0].periodSeconds = 3600), /spec\.behavior\.scaleDown\.policies\[0\]\.periodSeconds/],
    ['an empty policy list', (d: any) => (d.spec.behavior.scaleUp.policies = []), /spec\.behavior\.scaleUp\.policies: must specify at least one policy/],
    ['selectPolicy misspelt', (d: any) => (d.spec.behavior.scaleUp.selectPolicy = 'Maximum'), /spec\.behavior\.scaleUp\.selectPolicy/],
  ])('names the field when given %s', (_what, edit, pattern) => {
    const problems = problemsOf(() => parseHpaYaml(edited(HPA_TEXT, edit), 'hpa.yaml'));
    expect(problems.join('\n')).toMatch(pattern);
    expect(problems.every((p) => p.startsWith('hpa.yaml: '))).toBe(true);
  });

  it('refuses another kind or version, and invalid YAML', () => {
    expect(problemsOf(() => parseHpaYaml(KEDA_TEXT, 'x.yaml')).join('\n')).toMatch(/kind: expected a HorizontalPodAutoscaler, found ScaledObject/);
    expect(problemsOf(() => parseHpaYaml(HPA_TEXT.replace('autoscaling/v2', 'autoscaling/v1'), 'x.yaml')).join('\n')).toMatch(/apiVersion: must be one of "autoscaling\/v2"/);
    expect(problemsOf(() => parseHpaYaml('spec: [unclosed', 'x.yaml')).join('\n')).toMatch(/x\.yaml:1:\d+: invalid YAML/);
  });
});

describe('KEDA ScaledObject YAML', () => {
  it('reads the fixture unchanged, with the values it states', () => {
    const so = parseScaledObjectYaml(KEDA_TEXT, 'keda-queue-depth.yaml');
    expect(so).toMatchObject({
      name: 'openclaw-build-lane',
      pollingIntervalSeconds: 15,
      cooldownPeriodSeconds: 120,
      initialCooldownPeriodSeconds: 0,
      minReplicaCount: 0,
      maxReplicaCount: 10,
      idleReplicaCount: null,
      fallback: { failureThreshold: 3, replicas: 4, behavior: 'static' },
      hpaName: 'keda-hpa-openclaw-build-lane',
      scalingModifiers: null,
    });
    expect(so.behavior?.scaleDown).toEqual({ stabilizationWindowSeconds: 120, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }], tolerance: null });
    expect(so.triggers).toEqual([
      {
        index: 0,
        type: 'prometheus',
        name: 'queue_depth',
        key: 'queue_depth',
        metricName: 's0-prometheus',
        metricType: 'AverageValue',
        useCachedMetrics: false,
        prometheus: {
          serverAddress: 'http://prometheus.monitoring.svc.cluster.local:9090',
          query: 'sum(openclaw_queue_depth{queue="webhooks"})',
          threshold: 8,
          activationThreshold: 0,
          ignoreNullValues: true,
        },
        resource: null,
      },
    ]);
  });

  it('gives the HPA KEDA would create: the trigger as an External AverageValue metric, min max(1, minReplicaCount)', () => {
    const hpa = hpaForScaledObject(parseScaledObjectYaml(KEDA_TEXT));
    expect(hpa).toMatchObject({ name: 'keda-hpa-openclaw-build-lane', minReplicas: 1, maxReplicas: 10 });
    expect(hpa.metrics).toEqual([{ type: 'External', key: 'queue_depth', metricName: 's0-prometheus', target: { type: 'AverageValue', averageValue: 8000 } }]);
    expect(hpa.behavior?.scaleUp.policies).toHaveLength(2); // API defaults for the direction left unset
  });

  it("fills KEDA's defaults: pollingInterval 30 s, cooldownPeriod 300 s, max 100, min 0", () => {
    const so = parseScaledObjectYaml(
      edited(KEDA_TEXT, (d) => {
        for (const k of ['pollingInterval', 'cooldownPeriod', 'minReplicaCount', 'maxReplicaCount', 'fallback', 'advanced']) delete d.spec[k];
        delete d.spec.triggers[0].metadata.activationThreshold;
      }),
    );
    expect(so).toMatchObject({ pollingIntervalSeconds: 30, cooldownPeriodSeconds: 300, minReplicaCount: 0, maxReplicaCount: 100, fallback: null, behavior: null });
    expect(so.triggers[0]?.prometheus?.activationThreshold).toBe(0);
  });

  it('reads scalingModifiers and checks the formula against the trigger names', () => {
    const so = parseScaledObjectYaml(
      edited(KEDA_TEXT, (d) => {
        d.spec.triggers.push({ type: 'prometheus', name: 'ws', metadata: { serverAddress: 'http://p:9090', query: 'sum(x)', threshold: '100' } });
        d.spec.advanced.scalingModifiers = { formula: 'queue_depth + ws / 25', target: '8', activationTarget: '1', metricType: 'Value' };
      }),
    );
    expect(so.scalingModifiers).toMatchObject({ target: 8, activationTarget: 1, metricType: 'Value' });
    expect(hpaForScaledObject(so).metrics).toEqual([{ type: 'External', key: 'composite-metric', metricName: 'composite-metric', target: { type: 'Value', value: 8000 } }]);
  });

  it.each([
    ['a threshold written as a number', (d: any) => (d.spec.triggers[0].metadata.threshold = 8), /spec\.triggers\[0\]\.metadata\.threshold: must be string/],
    ['no query', (d: any) => delete d.spec.triggers[0].metadata.query, /spec\.triggers\[0\]\.metadata\.query: required by the prometheus scaler/],
    ['a threshold that is not a number', (d: any) => (d.spec.triggers[0].metadata.threshold = 'eight'), /spec\.triggers\[0\]\.metadata\.threshold: expected a number/],
    ['ignoreNullValues not a bool', (d: any) => (d.spec.triggers[0].metadata.ignoreNullValues = 'sometimes'), /spec\.triggers\[0\]\.metadata\.ignoreNullValues/],
    ['an unmodelled trigger type', (d: any) => (d.spec.triggers[0].type = 'kafka'), /spec\.triggers\[0\]\.type: trigger type "kafka" is not modelled/],
    ['a misspelt field', (d: any) => (d.spec.coolDownPeriod = 60), /spec: unknown field "coolDownPeriod"/],
    ['pollingInterval not a number', (d: any) => (d.spec.pollingInterval = '15s'), /spec\.pollingInterval: must be integer/],
    ['no triggers', (d: any) => (d.spec.triggers = []), /spec\.triggers/],
    ['idleReplicaCount not below the minimum', (d: any) => Object.assign(d.spec, { minReplicaCount: 2, idleReplicaCount: 2 }), /spec\.idleReplicaCount: 2 must be less than minReplicaCount \(2\)/],
    ['minReplicaCount above maxReplicaCount', (d: any) => Object.assign(d.spec, { minReplicaCount: 20 }), /spec\.minReplicaCount: 20 must be less than maxReplicaCount \(10\)/],
    ['a fallback behavior misspelt', (d: any) => (d.spec.fallback.behavior = 'dynamic'), /spec\.fallback\.behavior/],
    ['a formula naming no trigger', (d: any) => (d.spec.advanced.scalingModifiers = { formula: 'queue_depht * 2', target: '8' }), /spec\.advanced\.scalingModifiers\.formula: names queue_depht/],
    ['a formula that does not parse', (d: any) => (d.spec.advanced.scalingModifiers = { formula: 'queue_depth ?? 0 + 1', target: '8' }), /spec\.advanced\.scalingModifiers\.formula: .*cannot be mixed/],
    ['a formula without a target', (d: any) => (d.spec.advanced.scalingModifiers = { formula: 'queue_depth' }), /spec\.advanced\.scalingModifiers\.target: required/],
    ['a zero modifiers target', (d: any) => (d.spec.advanced.scalingModifiers = { formula: 'queue_depth', target: '0' }), /spec\.advanced\.scalingModifiers\.target: expected a number greater than 0/],
    ['duplicate trigger names', (d: any) => d.spec.triggers.push({ ...d.spec.triggers[0] }), /spec\.triggers\[1\]\.name: trigger name "queue_depth" is used twice/],
  ])('names the field when given %s', (_what, edit, pattern) => {
    const problems = problemsOf(() => parseScaledObjectYaml(edited(KEDA_TEXT, edit), 'so.yaml'));
    expect(problems.join('\n')).toMatch(pattern);
  });
});
