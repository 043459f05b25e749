// "Back in rotation": a restarted gateway takes traffic again. Where the load balancer's runtime
// API is there (the local test bed's HAProxy), that is its server checked UP again (L7OK), not
// just a process that answers; elsewhere the gateway's own readiness (`/readyz` 200).
import { showServersState } from '../lb/runtime.ts';
import { sleep } from '../util/sleep.ts';
import { gatewayOf, type ChaosTarget } from './target.ts';

const POLL_MS = 200;

/** ms until the gateway is back in rotation, or null when it was not within `timeoutMs` (or the signal aborted). */
export async function waitInRotation(t: ChaosTarget, gateway: string, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
  const g = gatewayOf(t, gateway);
  const t0 = Date.now();
  const inRotation = async (): Promise<boolean> => {
    try {
      if (t.haproxy !== undefined) {
        const s = (await showServersState(t.haproxy)).find((x) => x.name === g.server);
        return s !== undefined && s.opState === 'UP' && s.adminState === 'ready' && s.checkStatus.startsWith('L7OK');
      }
      const r = await fetch(`${g.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  };
  for (let i = 0; i <= Math.ceil(timeoutMs / POLL_MS) + 1; i++) {
    if (signal?.aborted) return null;
    if (await inRotation()) return Date.now() - t0;
    if (Date.now() - t0 >= timeoutMs) return null;
    await sleep(POLL_MS, signal);
  }
  return null;
}
