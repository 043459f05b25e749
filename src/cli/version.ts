// `clawstorm --version`: the release from package.json, the commit when this is a git checkout
// (a report is only comparable with the build that made it), and the Node that runs it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function versionLine(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
  const version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
  } catch {
    // Not a git checkout (an image built with `npm ci --omit=dev`): the release alone.
  }
  return `clawstorm ${version}${commit ? ` (${commit})` : ''} on node ${process.version}`;
}
