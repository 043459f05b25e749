// `clawstorm scale replay` and `testbed up --autoscale` on bad input: exit 2 naming the file and
// the field, before anything starts; a Prometheus that cannot answer: exit 3.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-scale-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    process.exitCode = undefined;
    return { code, stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('clawstorm scale replay', () => {
  it('exit 2 for a field the API server would refuse, naming the file and the field', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'reports/examples/autoscale/hpa-ws-connections.yaml'), 'utf8').replace('maxReplicas: 5', 'maxReplicas: 1'));
    const r = await run(['scale', 'replay', '--hpa', file, '--from', '1800000000', '--to', '1800000060', '--prometheus', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: spec.maxReplicas: must be greater than or equal to minReplicas (2)`);
  });

  it('exit 2 for a file of the other kind, and for an External metric without its adapter rule', async () => {
    const keda = path.join(REPO, 'test/fixtures/autoscale/keda-queue-depth.yaml');
    const wrong = await run(['scale', 'replay', '--hpa', keda, '--from', '0', '--to', '10', '--prometheus', 'http://127.0.0.1:9']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('kind: expected a HorizontalPodAutoscaler, found ScaledObject');
    const avg = path.join(REPO, 'reports/examples/autoscale/hpa-ws-avg.yaml');
    const noRule = await run(['scale', 'replay', '--hpa', avg, '--from', '0', '--to', '10', '--prometheus', 'http://127.0.0.1:9']);
    expect(noRule.code).toBe(2);
    expect(noRule.stderr).toContain('spec.metrics[0]: external metric openclaw_ws_connections_per_pod');
  });

  it('exit 3 when Prometheus cannot answer', async () => {
    const r = await run(['scale', 'replay', '--hpa', path.join(REPO, 'reports/examples/autoscale/hpa-ws-connections.yaml'), '--from', '1800000000', '--to', '1800000010', '--prometheus', 'http://127.0.0.1:9', '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Prometheus unreachable');
  });
});

describe('clawstorm testbed up --autoscale', () => {
  it('refuses a ScaledObject that scales to zero before anything starts (exit 2)', async () => {
    const stateDir = path.join(dir, 'never');
    const r = await run(['testbed', 'up', '--autoscale', path.join(REPO, 'test/fixtures/autoscale/keda-queue-depth.yaml'), '--state-dir', stateDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('minReplicaCount/idleReplicaCount 0');
    expect(fs.existsSync(stateDir)).toBe(false);
  });
});
