// One test bed for the whole integration project (replicas 3, its own temp state dir), handed
// to the tests as `inject('testbed')`. CLAWSTORM_TESTBED_STATE=<state dir or id> reuses a bed
// that is already running (`clawstorm testbed up`) and leaves it running afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadTestbed } from '../../src/testbed/control.ts';
import { stopTestbed } from '../../src/testbed/down.ts';
import { referenceBed, type TestbedEndpoints } from '../../src/testbed/types.ts';
import { startTestbed } from '../../src/testbed/up.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const log = (line: string) => process.stderr.write(`[testbed] ${line}\n`);

export default async function setup({ provide }: Pick<TestProject, 'provide'>): Promise<() => Promise<void>> {
  const reuse = process.env.CLAWSTORM_TESTBED_STATE;
  if (reuse) {
    const tb = loadTestbed(reuse);
    log(`reusing test bed ${tb.endpoints.id} (${tb.stateDir}); it stays up afterwards`);
    provide('testbed', referenceBed(tb.endpoints, 'the integration tests'));
    return async () => {};
  }

  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-it-'));
  const t0 = Date.now();
  const endpoints = referenceBed(await startTestbed({ replicas: 3, stateDir, onProgress: log }), 'the integration tests');
  log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s: lb ${endpoints.lb.url}, prometheus ${endpoints.prometheus.url}`);
  provide('testbed', endpoints);

  return async () => {
    const report = await stopTestbed(stateDir);
    if (report.problems.length > 0) {
      // Logs stay for the post-mortem.
      throw new Error(`test bed ${report.id} did not stop cleanly: ${report.problems.join('; ')} (state dir ${stateDir})`);
    }
    log(`down: stopped ${report.stopped.length} processes, no pid and no port left`);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
}
