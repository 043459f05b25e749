// Recording rules every bed's Prometheus gets: one name for "the gateway answers", whatever the
// fleet exposes. Drills query `clawstorm:gateway_up{gateway="gw-1"}` and run unchanged on the
// reference fleet (its own /metrics scrape) and on real OpenClaw gateways (the blackbox exporter's
// /healthz probe). A real deployment defines the same rule over its own metrics.
//
// The reference fleet also gets the scale signals of the autoscaling checks as series: the webhook
// queue depth (scale at 8 pending), active WebSocket connections per pod (sum over replicas, so a
// missing scrape lowers it instead of inflating it as avg() would), and CPU and memory as a share of
// a gateway's nominal requests (scale at 70 % and 80 %). Dashboards and drills read these names;
// an HPA or ScaledObject names its own queries.
import fs from 'node:fs';
import YAML from 'yaml';

export const GATEWAY_UP = 'clawstorm:gateway_up';

export const GATEWAY_UP_EXPR = {
  reference: 'up{job="gateway"}',
  openclaw: 'probe_success{job="blackbox-healthz"}',
} as const;

/** A gateway process has no Kubernetes requests: utilisation on a bed divides by these (cores, bytes). */
export const NOMINAL_REQUESTS = Object.freeze({ cpu: 0.5, memory: 512 * 1024 * 1024 });

/** Where each scale signal calls for more replicas. */
export const SCALE_SIGNAL_THRESHOLDS = Object.freeze({ queueDepthPending: 8, cpuUtilization: 0.7, memoryUtilization: 0.8 });

export const SCALE_SIGNALS = Object.freeze({
  'clawstorm:scale_queue_depth': 'max(openclaw_queue_depth{job="gateway",queue="webhooks"})',
  'clawstorm:scale_ws_connections_per_pod': 'sum(openclaw_ws_connections_active{job="gateway"}) / count(up{job="gateway"})',
  'clawstorm:scale_cpu_utilization': `sum by (gateway, az) (rate(process_cpu_seconds_total{job="gateway"}[15s])) / ${NOMINAL_REQUESTS.cpu}`,
  'clawstorm:scale_memory_utilization': `sum by (gateway, az) (process_resident_memory_bytes{job="gateway"}) / ${NOMINAL_REQUESTS.memory}`,
});

/** Write the rules file and return its path (Prometheus reads it at start and on /-/reload). */
export function writeRecordingRules(file: string, kind: keyof typeof GATEWAY_UP_EXPR): string {
  const signals = kind === 'reference' ? Object.entries(SCALE_SIGNALS).map(([record, expr]) => ({ record, expr })) : [];
  const doc = { groups: [{ name: 'clawstorm', rules: [{ record: GATEWAY_UP, expr: GATEWAY_UP_EXPR[kind] }, ...signals] }] };
  fs.writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
  return file;
}
