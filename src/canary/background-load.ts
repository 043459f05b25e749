// `--load <scenario>`: one of the gate's load scenarios running behind the canary the whole time
// (run again whenever it finishes), through the same load balancer, so the canary is judged under
// the fleet's real mix and not only under its own probe traffic. Its own thresholds are not the
// canary's business: only how much it sent is reported.
import { resolveScenario } from '../config/scenario.ts';
import { runScenario } from '../gate/scenario-run.ts';
import type { ChaosTarget } from '../target/target.ts';

export interface BackgroundLoadSummary {
  scenario: string;
  profile: string;
  runs: number;
  requests: number;
  errors: number;
  problems: string[];
}

export class BackgroundLoad {
  readonly summary: BackgroundLoadSummary;
  private readonly ctrl = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(scenario: string, profile: string) {
    // Resolve now: an unknown scenario is a usage error before anything starts.
    resolveScenario(scenario);
    this.summary = { scenario, profile, runs: 0, requests: 0, errors: 0, problems: [] };
  }

  start(t: ChaosTarget, runId: string, log: (line: string) => void): void {
    const file = resolveScenario(this.summary.scenario);
    this.loop = (async () => {
      while (!this.ctrl.signal.aborted) {
        try {
          const out = await runScenario(file, {
            profile: this.summary.profile,
            target: { baseUrl: t.lbUrl, tokens: t.tokens, runId: `${runId}.load${this.summary.runs}`, ...(t.profile.websocket ? { wsConnectParams: t.profile.websocket.connectParams } : {}) },
            prom: undefined,
            scrapeIntervalSeconds: 1,
            signal: this.ctrl.signal,
            sharedHost: t.testbed !== undefined,
          });
          this.summary.runs += 1;
          this.summary.requests += out.result.requests;
          this.summary.errors += out.result.errors;
        } catch (err) {
          this.summary.problems.push((err as Error).message);
          log(`background load ${this.summary.scenario}: ${(err as Error).message}`);
          return;
        }
      }
    })();
  }

  async stop(): Promise<BackgroundLoadSummary> {
    this.ctrl.abort();
    await this.loop;
    return this.summary;
  }
}
