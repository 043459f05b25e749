// Checks every exported Kubernetes object before it is written: its shape against the API's schema
// (kubernetes-models; for the k6-operator's TestRun, which has no model, our JSON schema of its
// CRD), and the rules the API server enforces beyond the schema for the objects we write (a Job's
// restart policy, an Indexed Job's completions, mounts of volumes that exist…). A manifest that
// `kubectl apply` would refuse, or that would run otherwise than written, is an export error here.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, ServiceAccount } from 'kubernetes-models/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IJob } from 'kubernetes-models/batch/v1';

export const TESTRUN_SCHEMA_FILE = path.join(import.meta.dirname, 'k6', 'testrun.schema.json');

const testRunSchema = JSON.parse(fs.readFileSync(TESTRUN_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
const validateTestRun = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(testRunSchema);

export class ManifestError extends Error {
  readonly exitCode = 2;
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`exported manifests are not valid:\n${problems.join('\n')}`);
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
/** An Indexed Job's completions and parallelism limit. */
const MAX_INDEXED = 100_000;
/** A ConfigMap holds at most 1 MiB of data. */
const CONFIGMAP_MAX_BYTES = 1_048_576;

function nameOf(o: Obj): string {
  const meta = o.metadata as { name?: unknown } | undefined;
  return `${String(o.kind)}/${String(meta?.name ?? '(no name)')}`;
}

function modelProblems(where: string, validate: () => void): string[] {
  try {
    validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}

/** What the API server checks in a Job beyond its OpenAPI schema, for the fields exports use. */
export function jobProblems(job: IJob): string[] {
  const where = `Job/${job.metadata?.name ?? '(no name)'}`;
  const out: string[] = [];
  const spec = job.spec;
  if (spec === undefined) return [`${where}: spec is required`];
  const name = job.metadata?.name ?? '';
  if (!DNS_LABEL.test(name) || name.length > 63) out.push(`${where}: metadata.name must be a DNS label of at most 63 characters (it becomes a pod label)`);
  const pod = spec.template.spec;
  const restart = pod?.restartPolicy;
  if (restart !== 'Never' && restart !== 'OnFailure') out.push(`${where}: spec.template.spec.restartPolicy must be Never or OnFailure for a Job (got ${restart ?? 'the default, Always'})`);
  if (spec.completionMode === 'Indexed') {
    if (spec.completions === undefined || spec.completions === null) out.push(`${where}: spec.completions is required when completionMode is Indexed`);
    else if (spec.completions > MAX_INDEXED) out.push(`${where}: spec.completions must be at most ${MAX_INDEXED} for an Indexed Job`);
    if ((spec.parallelism ?? 1) > MAX_INDEXED) out.push(`${where}: spec.parallelism must be at most ${MAX_INDEXED} for an Indexed Job`);
  }
  if (spec.backoffLimitPerIndex !== undefined && spec.completionMode !== 'Indexed') out.push(`${where}: spec.backoffLimitPerIndex needs completionMode Indexed`);
  if (spec.maxFailedIndexes !== undefined && spec.backoffLimitPerIndex === undefined) out.push(`${where}: spec.maxFailedIndexes needs backoffLimitPerIndex`);
  for (const k of ['completions', 'parallelism', 'backoffLimit', 'backoffLimitPerIndex', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'] as const) {
    const v = spec[k];
    if (typeof v === 'number' && v < (k === 'activeDeadlineSeconds' ? 1 : 0)) out.push(`${where}: spec.${k} must not be ${v}`);
  }
  const containers = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
  if ((pod?.containers ?? []).length === 0) out.push(`${where}: the pod needs at least one container`);
  const seen = new Set<string>();
  const volumes = new Set((pod?.volumes ?? []).map((v) => v.name));
  for (const c of containers) {
    const cw = `${where}: container ${c.name}`;
    if (!DNS_LABEL.test(c.name)) out.push(`${cw}: the name must be a DNS label`);
    if (seen.has(c.name)) out.push(`${cw}: the name is used twice in the pod`);
    seen.add(c.name);
    if (c.image === undefined || c.image === '') out.push(`${cw}: image is required`);
    for (const e of c.env ?? []) {
      if (!ENV_NAME.test(e.name)) out.push(`${cw}: env ${e.name} is not a valid variable name`);
      if (e.value !== undefined && e.valueFrom !== undefined) out.push(`${cw}: env ${e.name} has both value and valueFrom`);
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (ref !== undefined && (ref.key === '' || ref.name === undefined || ref.name === '')) out.push(`${cw}: env ${e.name} refers to no key`);
    }
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) out.push(`${cw}: mounts volume ${m.name}, which the pod does not define`);
      if (!m.mountPath.startsWith('/')) out.push(`${cw}: mountPath ${m.mountPath} must be absolute`);
    }
  }
  return out;
}

function configMapProblems(o: Obj): string[] {
  const data = (o.data ?? {}) as Record<string, string>;
  const out: string[] = [];
  let bytes = 0;
  for (const [k, v] of Object.entries(data)) {
    if (!CONFIGMAP_KEY.test(k) || k.length > 253) out.push(`${nameOf(o)}: data key ${JSON.stringify(k)} is not a valid ConfigMap key`);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (bytes > CONFIGMAP_MAX_BYTES) out.push(`${nameOf(o)}: ${bytes} bytes of data, above the ${CONFIGMAP_MAX_BYTES} a ConfigMap holds`);
  return out;
}

/** Every problem of one object; empty when `kubectl apply` would take it as written. */
export function manifestProblems(obj: unknown): string[] {
  if (obj === null || typeof obj !== 'object') return ['a manifest must be an object'];
  const o = obj as Obj;
  const where = nameOf(o);
  const plain = JSON.parse(JSON.stringify(o)) as Obj;
  switch (`${String(o.apiVersion)} ${String(o.kind)}`) {
    case 'batch/v1 Job': {
      const bad = modelProblems(where, () => new Job(plain as never).validate());
      return bad.length > 0 ? bad : jobProblems(plain as unknown as IJob);
    }
    case 'v1 ConfigMap': {
      const bad = modelProblems(where, () => new ConfigMap(plain as never).validate());
      return bad.length > 0 ? bad : configMapProblems(plain);
    }
    case 'v1 Secret':
      return modelProblems(where, () => new Secret(plain as never).validate());
    case 'v1 ServiceAccount':
      return modelProblems(where, () => new ServiceAccount(plain as never).validate());
    case 'v1 PersistentVolumeClaim':
      return modelProblems(where, () => new PersistentVolumeClaim(plain as never).validate());
    case 'rbac.authorization.k8s.io/v1 Role':
      return modelProblems(where, () => new Role(plain as never).validate());
    case 'rbac.authorization.k8s.io/v1 RoleBinding':
      return modelProblems(where, () => new RoleBinding(plain as never).validate());
    case 'k6.io/v1alpha1 TestRun':
      if (validateTestRun(plain)) return [];
      return (validateTestRun.errors ?? []).map((e) => `${where}: ${e.instancePath || '(top)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
    default:
      return [`${where}: no check for ${String(o.apiVersion)} ${String(o.kind)}; an export writes only kinds it can check`];
  }
}

/** Throw ManifestError listing every problem of every object. */
export function checkManifests(objs: readonly unknown[]): void {
  const problems = objs.flatMap((o) => manifestProblems(o));
  if (problems.length > 0) throw new ManifestError(problems);
}
