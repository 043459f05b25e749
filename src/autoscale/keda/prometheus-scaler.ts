// KEDA's Prometheus scaler (pkg/scalers/prometheus_scaler.go) on one instant-query answer:
// - more than one series is an error (the query must aggregate to one);
// - an empty result, a sample without a value, or NaN/±Inf is 0 while `ignoreNullValues` is true
//   (the default), and an error otherwise;
// - the metric handed to the HPA is the value rounded to milli-units, negatives clamped to 0;
// - the trigger is active when the value is strictly greater than `activationThreshold`.
import { kedaMilli } from '../quantity.ts';
import { parseGoFloat } from '../../expr/values.ts';

export interface PrometheusTriggerConfig {
  serverAddress: string;
  query: string;
  threshold: number;
  activationThreshold: number;
  ignoreNullValues: boolean;
}

export type ScalerReading =
  | { ok: true; /** The query's value as the scaler read it (may be negative). */ value: number; /** What the HPA receives, milli-units. */ metricMilli: number; active: boolean }
  | { ok: false; error: string };

function valueOf(answer: unknown, config: PrometheusTriggerConfig): number | { error: string } {
  if (typeof answer !== 'object' || answer === null) return { error: 'prometheus answer is not a JSON object' };
  const body = answer as { status?: unknown; error?: unknown; data?: { result?: unknown } };
  if (body.status !== undefined && body.status !== 'success') {
    return { error: `prometheus query api returned error: ${typeof body.error === 'string' ? body.error : String(body.status)}` };
  }
  const result = body.data?.result;
  if (!Array.isArray(result) || result.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    // A scalar or string result does not decode into the scaler's vector shape.
    return { error: 'prometheus answer is not a vector: cannot read data.result' };
  }
  if (result.length === 0) {
    return config.ignoreNullValues ? 0 : { error: "prometheus metrics 'prometheus' target may be lost, the result is empty" };
  }
  if (result.length > 1) return { error: `prometheus query ${config.query} returned multiple elements` };
  const sample = (result[0] as { value?: unknown }).value;
  const pair = Array.isArray(sample) ? sample : [];
  if (pair.length === 0) {
    return config.ignoreNullValues ? 0 : { error: "prometheus metrics 'prometheus' target may be lost, the value list is empty" };
  }
  if (pair.length < 2) return { error: `prometheus query ${config.query} didn't return enough values` };
  const raw = pair[1];
  // A null sample value leaves the scaler's initial -1 in place (clamped to 0 for the HPA).
  if (raw === null) return -1;
  if (typeof raw !== 'string') return { error: `prometheus value ${JSON.stringify(raw)} is not a string` };
  const v = parseGoFloat(raw);
  if (v === undefined) return { error: `error converting prometheus value ${JSON.stringify(raw)}` };
  if (!Number.isFinite(v)) {
    return config.ignoreNullValues ? 0 : { error: `prometheus query returns ${raw}` };
  }
  return v;
}

export function readPrometheusAnswer(config: PrometheusTriggerConfig, answer: unknown): ScalerReading {
  const v = valueOf(answer, config);
  if (typeof v !== 'number') return { ok: false, error: v.error };
  return { ok: true, value: v, metricMilli: kedaMilli(v), active: v > config.activationThreshold };
}
