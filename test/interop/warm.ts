// A freshly started OpenClaw gateway is slow on first use of each path: its first tool calls take
// seconds (the tool runtime loads), and its first hooks take seconds and stall every request
// behind them (the first agent run loads the agent runtime). Tests that judge latency or a steady
// state warm every gateway first, as any long-running gateway is: until five rounds in a row —
// one hook and one tool call straight to the gateway — are each answered within 1 s.
import fs from 'node:fs';
import type { OpenClawEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

export interface WarmTarget {
  id: string;
  url: string;
  gatewayToken: string;
  hookToken: string;
}

async function timed(url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return { ok: r.status === 200, ms: performance.now() - t0 };
}

export async function warmGateway(g: WarmTarget, timeoutMs = 120_000): Promise<void> {
  let fast = 0;
  let round = 0;
  await waitFor(
    async () => {
      round += 1;
      const hook = await timed(`${g.url}/hooks/agent`, g.hookToken, { message: 'clawstorm warm-up', name: 'clawstorm', deliver: false }, { 'idempotency-key': `warm-${g.id}-${Date.now()}-${round}` });
      const tool = await timed(`${g.url}/tools/invoke`, g.gatewayToken, { tool: 'sessions_list', args: { user_id: 'warm-up' } });
      fast = hook.ok && tool.ok && hook.ms < 1_000 && tool.ms < 1_000 ? fast + 1 : 0;
      return fast >= 5 ? true : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${g.id} to answer five rounds of a hook and a tool call within 1 s each (warm)` },
  );
}

export async function warmGateways(bed: OpenClawEndpoints, timeoutMs = 120_000): Promise<void> {
  const gatewayToken = fs.readFileSync(bed.tokenFiles.gateway, 'utf8').trim();
  const hookToken = fs.readFileSync(bed.tokenFiles.hook, 'utf8').trim();
  for (const g of bed.gateways) await warmGateway({ id: g.id, url: g.url, gatewayToken, hookToken }, timeoutMs);
}
