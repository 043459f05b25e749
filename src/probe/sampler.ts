// Every gateway's probe, sampled through a whole run (plan §5): one honest signal per gateway,
// and what it says over time.
//   - degraded: a gateway that reports `degraded: true` at any sample fails closed in the gate —
//     it keeps serving (HTTP 200, the load balancer keeps it), so nothing else would notice;
//   - the probe SLO: P95 of the probe's own latency < 200 ms;
//   - drift: gateways that answer on different paths, with different schema versions or field
//     sets, or whose probe disagrees for a sustained stretch with what the load balancer and
//     Prometheus see of them.
// The sampler only records; `probeThresholds` (judge.ts) turns the record into verdicts.
import { showServersState } from '../lb/runtime.ts';
import type { ChaosTarget } from '../target/target.ts';
import { sleep } from '../util/sleep.ts';
import { readProbe, type ProbeRead } from './fetch.ts';

export const PROBE_SAMPLE_MS = 1_000;

export interface ProbeSample extends ProbeRead {
  /** Seconds since the sampler started. */
  t: number;
  /** HAProxy's operational state of the gateway's server at that moment (null: unknown). */
  lbUp: boolean | null;
  /** `clawstorm:gateway_up` from Prometheus at that moment (null: unknown). */
  promUp: boolean | null;
}

export class ProbeSampler {
  readonly samples: ProbeSample[] = [];
  readonly startedAt = Date.now();
  readonly #t: ChaosTarget;
  readonly #intervalMs: number;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(t: ChaosTarget, intervalMs = PROBE_SAMPLE_MS) {
    this.#t = t;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#loop = (async () => {
      // Bounded: a sampler forgotten by its run still ends within a day.
      for (let round = 0; round < 86_400 && !this.#stop.signal.aborted; round++) {
        const began = Date.now();
        // A round that could not read anything is a gap in the record, never a crash of the run.
        await this.round().catch(() => {});
        if (!(await sleep(this.#intervalMs - (Date.now() - began), this.#stop.signal))) break;
      }
    })();
  }

  async stop(): Promise<ProbeSample[]> {
    this.#stop.abort();
    await this.#loop;
    return this.samples;
  }

  /** One sample of every gateway, with the load balancer's and Prometheus's view beside it. */
  async round(): Promise<void> {
    const t = this.#t;
    const at = (Date.now() - this.startedAt) / 1000;
    const [reads, lb, prom] = await Promise.all([
      Promise.all(t.gateways.map((g) => readProbe(t, g.name))),
      lbView(t),
      promView(t),
    ]);
    reads.forEach((r, i) => {
      const g = t.gateways[i]!;
      this.samples.push({ ...r, t: Math.round(at * 10) / 10, lbUp: lb?.get(g.server) ?? null, promUp: prom?.get(g.name) ?? null });
    });
  }
}

async function lbView(t: ChaosTarget): Promise<Map<string, boolean> | undefined> {
  if (t.haproxy === undefined) return undefined;
  try {
    return new Map((await showServersState(t.haproxy)).map((s) => [s.name, s.opState === 'UP']));
  } catch {
    return undefined;
  }
}

async function promView(t: ChaosTarget): Promise<Map<string, boolean> | undefined> {
  if (t.prom === undefined) return undefined;
  try {
    const r = await t.prom.instant('clawstorm:gateway_up');
    if (r.type !== 'vector') return undefined;
    return new Map(r.series.filter((s) => s.labels.gateway !== undefined && !Number.isNaN(s.v)).map((s) => [s.labels.gateway!, s.v >= 1]));
  } catch {
    return undefined;
  }
}
