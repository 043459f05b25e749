import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { findBinary } from '../../src/util/proc.ts';

const execFileP = promisify(execFile);

/** The release the interop tests and launcher were checked against (see docs/ARCHITECTURE.md). */
export const OPENCLAW_VERSION = '2026.9.6';

export interface OpenClawInstall {
  version: string;
  /** The npm prefix: `<dir>/node_modules/openclaw` is the package. */
  dir: string;
  packageDir: string;
  /** The CLI entry (`openclaw.mjs`); run it as `process.execPath <entry> gateway …`. */
  entry: string;
  docsDir: string;
  /** True when this call ran npm (false: it was already cached). */
  installedNow: boolean;
  installMs: number;
}

export interface InstallOptions {
  version?: string;
  /** Root of the cache; default `$CLAWSTORM_CACHE_DIR` or `$XDG_CACHE_HOME/clawstorm` or `~/.cache/clawstorm`. */
  cacheRoot?: string;
  /** Bound on `npm install`. Default 10 min (the package is ~650 MB installed). */
  timeoutMs?: number;
}

const pkgJson = z.looseObject({ name: z.literal('openclaw'), version: z.string(), bin: z.record(z.string(), z.string()).optional() });

export function defaultCacheRoot(): string {
  const env = process.env.CLAWSTORM_CACHE_DIR;
  if (env !== undefined && env !== '') return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'clawstorm');
}

function inspect(dir: string, version: string): Omit<OpenClawInstall, 'installedNow' | 'installMs'> | undefined {
  const packageDir = path.join(dir, 'node_modules', 'openclaw');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const pkg = pkgJson.safeParse(raw);
  if (!pkg.success || pkg.data.version !== version) return undefined;
  const entry = path.join(packageDir, pkg.data.bin?.openclaw ?? 'openclaw.mjs');
  if (!fs.existsSync(entry)) return undefined;
  return { version, dir, packageDir, entry, docsDir: path.join(packageDir, 'docs', 'gateway') };
}

/**
 * The pinned `openclaw` package, installed once into a cache outside the repository. Idempotent:
 * a complete cached copy is reused; otherwise npm installs into a scratch directory that is
 * renamed into place, so an interrupted or concurrent install never leaves a half copy behind.
 */
export async function ensureOpenClaw(opts: InstallOptions = {}): Promise<OpenClawInstall> {
  const version = opts.version ?? process.env.CLAWSTORM_OPENCLAW_VERSION ?? OPENCLAW_VERSION;
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`openclaw version '${version}' is not a plain version`);
  const base = path.join(opts.cacheRoot ?? defaultCacheRoot(), 'openclaw');
  const dir = path.join(base, version);
  const t0 = performance.now();
  const cached = inspect(dir, version);
  if (cached !== undefined) return { ...cached, installedNow: false, installMs: performance.now() - t0 };

  const npm = findBinary('npm', 'CLAWSTORM_NPM');
  if (npm === undefined) throw new Error("npm not found on PATH (needed to install the npm package 'openclaw'; or set CLAWSTORM_NPM)");
  fs.mkdirSync(base, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(base, `.${version}.installing-`));
  try {
    // openclaw's preinstall refuses Node < 24.16 and runs under whatever `node` is first on
    // PATH, so the Node running us (the repo's pinned Node 24) goes first.
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    try {
      await execFileP(npm, ['install', '--prefix', scratch, `openclaw@${version}`, '--no-audit', '--no-fund', '--loglevel=error'], {
        env,
        cwd: scratch,
        timeout: opts.timeoutMs ?? 600_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: unknown; message?: unknown };
      const tail = typeof e.stderr === 'string' ? e.stderr.trim().split('\n').slice(-8).join('\n') : String(e.message);
      throw new Error(`npm install openclaw@${version} failed:\n${tail}`);
    }
    if (inspect(scratch, version) === undefined) throw new Error(`npm install openclaw@${version} finished but ${scratch} holds no usable package`);
    try {
      fs.renameSync(scratch, dir);
    } catch (err) {
      // Someone else finished first: theirs is as good as ours.
      if (inspect(dir, version) === undefined) throw err;
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const done = inspect(dir, version);
  if (done === undefined) throw new Error(`openclaw@${version} is not usable at ${dir}`);
  return { ...done, installedNow: true, installMs: performance.now() - t0 };
}

// `node harness/openclaw/install.ts [version]`: install (or find) and print where it is.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await ensureOpenClaw(process.argv[2] === undefined ? {} : { version: process.argv[2] });
  process.stdout.write(`${JSON.stringify({ version: r.version, entry: r.entry, installedNow: r.installedNow, installMs: Math.round(r.installMs) })}\n`);
}
