// A freshly started OpenClaw gateway answers its first tool calls in seconds (its runtime loads on
// first use). Tests that judge latency or a steady state warm every gateway first, as any
// long-running gateway is: until five calls in a row straight to each answer within 1 s.
import fs from 'node:fs';
import type { OpenClawEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

export async function warmGateways(bed: OpenClawEndpoints, timeoutMs = 120_000): Promise<void> {
  const token = fs.readFileSync(bed.tokenFiles.gateway, 'utf8').trim();
  for (const g of bed.gateways) {
    let fast = 0;
    await waitFor(
      async () => {
        const t0 = performance.now();
        const r = await fetch(`${g.url}/tools/invoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'sessions_list', args: { user_id: 'warm-up' } }),
          signal: AbortSignal.timeout(10_000),
        });
        await r.arrayBuffer();
        fast = r.status === 200 && performance.now() - t0 < 1_000 ? fast + 1 : 0;
        return fast >= 5 ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${g.id} to answer five tool calls in a row within 1 s (warm)` },
    );
  }
}
