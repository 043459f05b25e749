import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (harness scripts are started from here). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const SCRIPTS = {
  gateway: path.join(REPO_ROOT, 'harness/gateway/main.ts'),
  policy: path.join(REPO_ROOT, 'harness/policy/main.ts'),
  upstreams: path.join(REPO_ROOT, 'harness/upstreams/main.ts'),
  pglite: path.join(REPO_ROOT, 'harness/db/pglite-server.ts'),
  notifier: path.join(REPO_ROOT, 'harness/notifier/main.ts'),
  autoscaler: path.join(REPO_ROOT, 'src/scale/autoscaler-main.ts'),
} as const;
