// The user's autoscaler file, read unchanged: an autoscaling/v2 HorizontalPodAutoscaler or a KEDA
// ScaledObject. The kind is what the file holds (a file may carry other documents too); a flag that
// names the kind (`--hpa`, `--scaledobject`) must match it.
import fs from 'node:fs';
import YAML from 'yaml';
import type { AutoscalerSource } from '../autoscale/controller.ts';
import { parseHpaYaml } from '../autoscale/hpa/spec.ts';
import { parseScaledObjectYaml } from '../autoscale/keda/scaledobject.ts';
import { ManifestError } from '../autoscale/manifest.ts';

export interface LoadedSource {
  file: string;
  source: AutoscalerSource;
  name: string;
  minReplicas: number;
  maxReplicas: number;
  pollingIntervalSeconds: number | null;
}

function kindsIn(text: string): string[] {
  try {
    return YAML.parseAllDocuments(text)
      .map((d) => d.toJS() as unknown)
      .flatMap((o) => (typeof o === 'object' && o !== null && 'kind' in o ? [String((o as { kind: unknown }).kind)] : []));
  } catch {
    return [];
  }
}

/** Throws ManifestError (field-named problems) for anything the API server or KEDA would refuse. */
export function loadAutoscaler(file: string, expect?: 'hpa' | 'keda'): LoadedSource {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ManifestError(file, [`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  const kinds = kindsIn(text);
  const kind = expect ?? (kinds.includes('ScaledObject') && !kinds.includes('HorizontalPodAutoscaler') ? 'keda' : 'hpa');
  if (kind === 'keda') {
    const so = parseScaledObjectYaml(text, file);
    return { file, source: { kind: 'keda', scaledObject: so }, name: so.name, minReplicas: so.minReplicaCount, maxReplicas: so.maxReplicaCount, pollingIntervalSeconds: so.pollingIntervalSeconds };
  }
  const hpa = parseHpaYaml(text, file);
  return { file, source: { kind: 'hpa', hpa }, name: hpa.name, minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, pollingIntervalSeconds: null };
}
