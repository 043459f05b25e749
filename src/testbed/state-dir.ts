// A bed's state directory: created private (0700), or reused when the bed that held it is down.
import fs from 'node:fs';
import path from 'node:path';
import { readState, stateFilePath } from './state.ts';

/**
 * Make `stateDir` ready for a new bed. A directory holding a bed that is not down is refused (it
 * may still be running); a stopped bed's directory is reused, minus what would confuse the new
 * one (configs, data, Prometheus, HAProxy, tokens, the state file). Logs stay.
 */
export function prepareStateDir(stateDir: string): void {
  if (fs.existsSync(stateFilePath(stateDir))) {
    let phase = 'unknown';
    try {
      phase = readState(stateDir).phase;
    } catch {
      // unreadable: treat as taken
    }
    if (phase !== 'down') throw new Error(`${stateDir} already holds a test bed (phase ${phase}); run 'clawstorm testbed down' first or pick another --state-dir`);
    for (const sub of ['config', 'data', 'prometheus', 'haproxy', 'tokens', 'state.json']) fs.rmSync(path.join(stateDir, sub), { recursive: true, force: true });
  }
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(stateDir, 0o700);
  for (const sub of ['config', 'logs', 'data']) fs.mkdirSync(path.join(stateDir, sub), { recursive: true, mode: 0o700 });
}
