// Per-target labels for a bed's Prometheus: each gateway and sidecar target carries the `gateway`
// and `az` it belongs to, so every series can be told apart by replica from its first sample.
import fs from 'node:fs';
import YAML from 'yaml';
import type { PrometheusInstance } from '../../harness/launch/prometheus.ts';

export interface LabelledTarget {
  target: string;
  labels: Record<string, string>;
}

/**
 * Give each gateway/sidecar target its own `gateway` and `az` labels. The launcher's ScrapeJob
 * carries job-wide labels only, so the config is completed here and reloaded (`/-/reload`)
 * before those jobs have any target: no series ever exists without the labels. `honor_labels`
 * keeps the gateways' own `gateway`/`az` labels (same values) unprefixed.
 */
export async function labelTargets(prom: PrometheusInstance, byJob: Record<string, LabelledTarget[]>): Promise<void> {
  const doc: unknown = YAML.parse(fs.readFileSync(prom.configFile, 'utf8'));
  const configs = (doc as { scrape_configs?: Array<Record<string, unknown>> }).scrape_configs;
  if (!Array.isArray(configs)) throw new Error(`${prom.configFile}: no scrape_configs`);
  for (const [job, targets] of Object.entries(byJob)) {
    const c = configs.find((x) => x.job_name === job);
    if (!c) throw new Error(`${prom.configFile}: no job ${job}`);
    c.static_configs = targets.map((t) => ({ targets: [t.target], labels: t.labels }));
    c.honor_labels = true;
  }
  fs.writeFileSync(prom.configFile, YAML.stringify(doc), { mode: 0o600 });
  const res = await fetch(`${prom.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`prometheus at ${prom.url} refused the labelled config (${prom.configFile}): HTTP ${res.status} ${body.slice(0, 200)}`);
}
