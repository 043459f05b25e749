// Recording rules every bed's Prometheus gets: one name for "the gateway answers", whatever the
// fleet exposes. Drills query `clawstorm:gateway_up{gateway="gw-1"}` and run unchanged on the
// reference fleet (its own /metrics scrape) and on real OpenClaw gateways (the blackbox exporter's
// /healthz probe). A real deployment defines the same rule over its own metrics.
import fs from 'node:fs';
import YAML from 'yaml';

export const GATEWAY_UP = 'clawstorm:gateway_up';

export const GATEWAY_UP_EXPR = {
  reference: 'up{job="gateway"}',
  openclaw: 'probe_success{job="blackbox-healthz"}',
} as const;

/** Write the rules file and return its path (Prometheus reads it at start and on /-/reload). */
export function writeRecordingRules(file: string, kind: keyof typeof GATEWAY_UP_EXPR): string {
  const doc = { groups: [{ name: 'clawstorm', rules: [{ record: GATEWAY_UP, expr: GATEWAY_UP_EXPR[kind] }] }] };
  fs.writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
  return file;
}
