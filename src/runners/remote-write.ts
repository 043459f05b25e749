// A runner's live series, pushed to Prometheus by remote write while it runs, each labelled with
// the run, the runner (`runner`, and `instance_id` as the k6-operator labels its runners) and
// the scenario: requests, errors and dropped iterations as counters, and whether the runner's
// generator was saturated. Dashboards see every runner's share as it happens, and sum() over
// runners is the run's. They are not what the verdict is computed from — the runner files are
// (histograms cannot be rebuilt from these counters) — so a push that fails is logged once and
// the run goes on.
import { pushTimeseries } from 'prometheus-remote-write';
import type { EngineProgress } from '../load/engine.ts';

export const RUNNER_SERIES = {
  requests: 'clawstorm_runner_requests_total',
  errors: 'clawstorm_runner_errors_total',
  dropped: 'clawstorm_runner_dropped_iterations_total',
  saturated: 'clawstorm_runner_saturated',
} as const;

export interface RemoteWriterOptions {
  /** The receiver, e.g. http://prometheus:9090/api/v1/write. */
  url: string;
  run: string;
  runner: string;
  /** 1-based runner index (the k6-operator's instance_id). */
  index: number;
  pushEveryMs?: number;
  log: (line: string) => void;
}

interface Counts {
  requests: number;
  errors: number;
  dropped: number;
}

export class RemoteWriter {
  readonly #o: RemoteWriterOptions;
  readonly #latest = new Map<string, Counts>();
  readonly #saturated = new Map<string, boolean>();
  #timer: NodeJS.Timeout | undefined;
  #failed = false;
  #pushes = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: RemoteWriterOptions) {
    this.#o = o;
  }

  get pushes(): number {
    return this.#pushes;
  }

  start(): void {
    this.#timer = setInterval(() => void this.push(), this.#o.pushEveryMs ?? 5_000);
  }

  /** The engine's progress (cumulative per scenario). */
  note(scenario: string, p: EngineProgress): void {
    const s = p.scenarios.find((x) => x.name === scenario);
    if (s !== undefined) this.#latest.set(scenario, { requests: s.requests, errors: s.errors, dropped: s.dropped });
  }

  /** A scenario's final counts (from its measurement) and saturation. */
  final(scenario: string, counts: Counts, saturated: boolean): void {
    this.#latest.set(scenario, counts);
    this.#saturated.set(scenario, saturated);
  }

  /** Push the current values (one at a time: samples of a series must arrive in time order). */
  push(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#pushNow());
    return this.#chain;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.push();
  }

  async #pushNow(): Promise<void> {
    if (this.#latest.size === 0) return;
    const timestamp = Date.now();
    const base = { run: this.#o.run, runner: this.#o.runner, instance_id: String(this.#o.index) };
    const series = [...this.#latest].flatMap(([scenario, c]) => {
      const labels = { ...base, scenario };
      const out: Array<{ labels: { __name__: string } & Record<string, string>; samples: Array<{ value: number; timestamp: number }> }> = [
        { labels: { __name__: RUNNER_SERIES.requests, ...labels }, samples: [{ value: c.requests, timestamp }] },
        { labels: { __name__: RUNNER_SERIES.errors, ...labels }, samples: [{ value: c.errors, timestamp }] },
        { labels: { __name__: RUNNER_SERIES.dropped, ...labels }, samples: [{ value: c.dropped, timestamp }] },
      ];
      const sat = this.#saturated.get(scenario);
      if (sat !== undefined) out.push({ labels: { __name__: RUNNER_SERIES.saturated, ...labels }, samples: [{ value: sat ? 1 : 0, timestamp }] });
      return out;
    });
    try {
      const r = await pushTimeseries(series, { url: this.#o.url, timeout: 5_000, fetch: viaUndiciFetch, headers: { 'X-Prometheus-Remote-Write-Version': '0.1.0' } });
      if (r.status >= 300) throw new Error(`${r.status} ${r.statusText}${r.errorMessage ? `: ${r.errorMessage}` : ''}`);
      this.#pushes += 1;
    } catch (err) {
      if (!this.#failed) this.#o.log(`remote write to ${this.#o.url} failed (${err instanceof Error ? err.message : String(err)}); the runner file still carries every count`);
      this.#failed = true;
    }
  }
}

/** The library's own default is node-fetch, which this project does not ship: Node's fetch instead. */
const viaUndiciFetch = async (url: string, init?: { method: string; headers: Record<string, string>; timeout?: number; body: ArrayBufferLike }) => {
  const r = await fetch(url, {
    method: init?.method ?? 'POST',
    headers: init?.headers ?? {},
    ...(init?.body !== undefined ? { body: new Uint8Array(init.body as ArrayBuffer) } : {}),
    signal: AbortSignal.timeout(init?.timeout ?? 5_000),
  });
  return { status: r.status, statusText: r.statusText, text: () => r.text() };
};
