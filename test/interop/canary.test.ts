// `clawstorm canary` against a pair of REAL OpenClaw gateways behind HAProxy (`testbed up
// --gateways openclaw`), exactly as a user runs it: gw-2 is the canary, the ramp 25 → 50 → 100 %
// completes and promotes. The judge sees both sides because HAProxy names the server that answered
// (`X-Served-By`, set by the bed's haproxy.cfg) — real gateways do not say it themselves; the
// analysis is scenarios/canary/openclaw-analysis.yaml (HAProxy's per-server series and the
// blackbox /readyz probe), the default on such a bed. Short windows keep it to a few minutes.
// CLAWSTORM_INTEROP_KEEP=<dir> keeps the report there (reports/examples/openclaw/canary-promote).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showServersState } from '../../src/lb/runtime.ts';
import { readResults, type Results } from '../../src/report/results.ts';
import { stopTestbed } from '../../src/testbed/down.ts';
import type { OpenClawEndpoints } from '../../src/testbed/types.ts';
import { startTestbed } from '../../src/testbed/up.ts';
import { warmGateways } from './warm.ts';

const execFileP = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../bin/clawstorm');

let tmp: string;
let bed: OpenClawEndpoints;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-occanary-'));
  bed = await startTestbed({ gateways: 'openclaw', replicas: 2, stateDir: path.join(tmp, 'bed'), onProgress: (l) => process.stderr.write(`[openclaw bed] ${l}\n`) });
  // The judge compares latencies: a gateway still loading its runtime would be judged slower.
  await warmGateways(bed);
}, 600_000);

afterAll(async () => {
  const keep = process.env.CLAWSTORM_INTEROP_KEEP;
  if (keep !== undefined && keep !== '' && fs.existsSync(path.join(tmp, 'canary'))) fs.cpSync(path.join(tmp, 'canary'), path.join(keep, 'canary-promote'), { recursive: true });
  if (bed !== undefined) await stopTestbed(bed.stateDir).catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

async function cli(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(CLI, args, { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, CI: 'true', CLAWSTORM_JOURNAL_DIR: path.join(tmp, 'journals') } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** What a failing assertion prints: the verdict, its reason and each step. */
function why(code: number, out: string, r: Results | undefined): string {
  const c = r?.canary;
  if (c === undefined) return `exit ${code}\n${out.slice(-4000)}`;
  return [
    `exit ${code}: ${c.verdict} — ${c.reason}`,
    ...(c.classification?.evidence ?? []).map((e) => `  evidence: ${e}`),
    ...c.steps.map((s) => `  ${s.percent} %: ${s.phase} (analysis ${s.analysisPhase} ${s.analysisReason}; judge ${s.judge ? `${s.judge.score} ${s.judge.classification} ${s.judge.reason ?? ''}` : s.judgeSkipped}; canary ${s.canary.requests} req p99 ${s.canary.p99Ms?.toFixed(0)} ms, stable ${s.stable.requests} req p99 ${s.stable.p99Ms?.toFixed(0)} ms)`),
  ].join('\n');
}

describe('clawstorm canary on a pair of real OpenClaw gateways', () => {
  it("HAProxy names the real gateway that answered (X-Served-By): the judge's per-server attribution", async () => {
    const token = fs.readFileSync(bed.tokenFiles.gateway, 'utf8').trim();
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${bed.lb.url}/tools/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'sessions_list', args: { user_id: 'served-by' } }),
        signal: AbortSignal.timeout(10_000),
      });
      await r.arrayBuffer();
      expect(r.status).toBe(200);
      seen.push(r.headers.get('x-served-by') ?? 'none');
    }
    // Round robin over two servers at equal weights: both named, nothing else.
    expect([...new Set(seen)].sort(), seen.join(' ')).toEqual(['gw-1', 'gw-2']);
  });

  it('a ramp with gw-2 as the canary (25 → 50 → 100 %) completes and promotes; weights handed back', async () => {
    const out = path.join(tmp, 'canary');
    // 5 judged calls/s: what the pair carries on 2 shared cores (profiles/openclaw.yaml's drill rate).
    const { code, out: said } = await cli(['canary', '--testbed-state', bed.stateDir, '--canary', 'gw-2', '--steps', '25,50,100', '--window', '5s', '--rate', '5', '--out', out], 300_000);
    const r = fs.existsSync(path.join(out, 'results.json')) ? readResults(path.join(out, 'results.json')) : undefined;
    const c = r?.canary;
    const w = why(code, said, r);
    expect(code, w).toBe(0);
    expect(c?.verdict, w).toBe('promote');
    expect(c!.templates.map((t) => [t.name, t.source]), w).toEqual([['clawstorm-openclaw-canary', 'scenarios/canary/openclaw-analysis.yaml']]);
    expect(c!.steps.map((s) => [s.percent, s.phase]), w).toEqual([[25, 'Successful'], [50, 'Successful'], [100, 'Successful']]);
    for (const s of c!.steps) {
      // Every metric measured real series (no Error, no Inconclusive: the bed exports what the
      // template reads), the readiness watch throughout.
      for (const m of s.metrics) expect(m.measurements.filter((x) => x.phase === 'Error' || x.phase === 'Inconclusive').map((x) => x.detail), `${s.percent} %: ${m.name}\n${w}`).toEqual([]);
      expect(s.metrics.find((m) => m.name === 'canary-5xx-rate')!.measurements.length, w).toBe(2);
      expect(s.metrics.find((m) => m.name === 'canary-not-ready')!.measurements.length, w).toBeGreaterThanOrEqual(2);
      expect(s.canary.requests, `${s.percent} %: the canary answered\n${w}`).toBeGreaterThan(0);
    }
    // Below 100 % both sides answered and were judged against each other (attributed per server).
    for (const s of c!.steps.filter((x) => x.percent < 100)) {
      expect(s.stable.requests, w).toBeGreaterThan(0);
      expect(s.judge?.classification, w).toBe('Pass');
    }
    // At 25 % the canary carried about a quarter of the judged calls (weights 50 : 150).
    const first = c!.steps[0]!;
    expect(first.canary.requests / (first.canary.requests + first.stable.requests), w).toBeLessThan(0.45);
    expect(c!.steps[2]!.judge, w).toBeNull();
    expect(c!.steps[2]!.stable.requests, w).toBe(0);
    // Promoted on the bed: every server back at its own weight.
    expect(Object.fromEntries((await showServersState(bed.haproxy)).map((s) => [s.name, s.weight]))).toEqual({ 'gw-1': 100, 'gw-2': 100 });
  }, 320_000);
});
