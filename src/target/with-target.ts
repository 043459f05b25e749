// Run something against a bound target, starting a local test bed for it when the user named
// none, and stopping what was started here afterwards — also when the work throws or is aborted.
//
// Bed policy when neither --target nor --testbed-state is given:
//   fresh          always a new bed (the gate: a pre-release verdict must not depend on what an
//                  earlier run left in a shared bed);
//   reuse-or-start the newest running bed, or a new one (drills, storms, canaries on a game day).
import { startTestbed, stopTestbed } from '../testbed/index.ts';
import { bindTarget, findTestbed, type BindOptions, type BoundTarget } from './bind.ts';

export interface TargetChoice extends BindOptions {
  bed: 'fresh' | 'reuse-or-start';
  /** Gateways of a bed started here (default 3). */
  replicas?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: ((line: string) => void) | undefined;
}

export async function withTarget<T>(choice: TargetChoice, fn: (bound: BoundTarget) => Promise<T>): Promise<T> {
  const log = choice.log ?? (() => {});
  let started: string | undefined;
  const named = choice.targetFile !== undefined || choice.testbedStateDir !== undefined;
  if (!named && (choice.bed === 'fresh' || findTestbed() === undefined)) {
    const replicas = choice.replicas ?? 3;
    log(`testbed: starting a local test bed (${replicas} gateways behind HAProxy, Prometheus) for this run`);
    const t0 = Date.now();
    const ep = await startTestbed({
      replicas,
      ...(choice.signal ? { signal: choice.signal } : {}),
      onProgress: (line, ev) => {
        if (ev.status === 'failed') log(`testbed: ${line}`);
      },
    });
    started = ep.stateDir;
    log(`testbed: up in ${((Date.now() - t0) / 1000).toFixed(1)} s (lb ${ep.lb.url}, prometheus ${ep.prometheus.url})`);
  }
  try {
    return await fn(bindTarget({ ...choice, ...(started !== undefined ? { testbedStateDir: started } : {}) }));
  } finally {
    if (started !== undefined) {
      log('testbed: stopping the test bed started for this run');
      await stopTestbed(started).catch((err: Error) => log(`testbed: stop failed: ${err.message}`));
    }
  }
}

/** The audit store a bound reference bed writes to (its database URL), for the audit lookups. */
export function databaseUrlOf(b: BoundTarget): string | undefined {
  return b.testbed !== undefined && b.testbed.kind !== 'openclaw' ? b.testbed.database.url : undefined;
}
