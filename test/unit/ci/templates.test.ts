// The CI templates work as written: both parse as YAML, and every `clawstorm` command and npm
// script they call exists, with those flags — asked of the CLI's own yargs program (handlers
// stopped before they run), so there is no second list of commands to fall out of date.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCli } from '../../../src/cli/main.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

class Validated extends Error {}

/** yargs' verdict on argv: undefined when valid, else its message. Nothing is executed. */
async function cliProblem(argv: string[]): Promise<string | undefined> {
  try {
    await buildCli(argv)
      .middleware(() => {
        throw new Validated();
      }, false)
      .parseAsync();
    return 'the command ran a handler without reaching validation';
  } catch (err) {
    return err instanceof Validated ? undefined : (err as Error).message;
  }
}

/** Shell words of one command line: quotes removed, CI expressions and variables as placeholders. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.replace(/\$\{\{[^}]*\}\}/g, 'X').matchAll(re)) out.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'X'));
  return out;
}

/** Every simple command in a script: lines joined at `\`, split at ; && || |, case arms' bodies. */
function commands(script: string): string[][] {
  return script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .flatMap((l) => l.replace(/#.*$/, '').split(/;;|&&|\|\||;|\|/))
    .map((c) => c.replace(/^\s*(?:\S+\)\s+)/, '').trim())
    .filter((c) => c !== '')
    .map(words)
    .map((w) => {
      while (w.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(w[0]!)) w.shift();
      return w;
    });
}

function scriptsOf(doc: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (typeof v === 'string' && (key === 'run' || key === 'script' || key === 'before_script' || key === 'after_script')) found.push(v);
    else if (Array.isArray(v)) for (const x of v) typeof x === 'string' && key !== undefined && /script$/.test(key) ? found.push(x) : walk(x, key);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(doc);
  return found;
}

const CLAWSTORM = new Set(['clawstorm', 'bin/clawstorm', './bin/clawstorm']);

interface Call {
  argv: string[];
  via: string;
}

/** The clawstorm argv of a command, also through `npm run <script> -- …`; npm scripts must exist. */
function clawstormCalls(cmds: string[][]): { calls: Call[]; missingScripts: string[]; npmScripts: string[] } {
  const calls: Call[] = [];
  const missingScripts: string[] = [];
  const npmScripts: string[] = [];
  for (const w of cmds) {
    if (w[0] !== undefined && CLAWSTORM.has(w[0])) calls.push({ argv: w.slice(1), via: w.join(' ') });
    if (w[0] === 'npx' && w[1] === 'clawstorm') calls.push({ argv: w.slice(2), via: w.join(' ') });
    if (w[0] === 'npm' && (w[1] === 'run' || w[1] === 'run-script')) {
      const name = w[2]!;
      npmScripts.push(name);
      const body = PKG.scripts[name];
      if (body === undefined) {
        missingScripts.push(name);
        continue;
      }
      const extra = w.indexOf('--') >= 0 ? w.slice(w.indexOf('--') + 1) : [];
      const bw = words(body);
      if (bw[0] === 'node' && bw[1] === 'src/cli/main.ts') calls.push({ argv: [...bw.slice(2), ...extra], via: w.join(' ') });
    }
  }
  return { calls, missingScripts, npmScripts };
}

const TEMPLATES = ['examples/ci/github-actions-nightly.yml', 'examples/ci/gitlab-ci.yml'];

describe.each(TEMPLATES)('%s', (rel) => {
  const doc = parse(fs.readFileSync(path.join(REPO, rel), 'utf8')) as Record<string, unknown>;
  const { calls, missingScripts, npmScripts } = clawstormCalls(scriptsOf(doc).flatMap(commands));

  it('parses, calls the gate with a baseline and renders the trends', () => {
    expect(doc).toBeTypeOf('object');
    const gate = calls.find((c) => c.argv[0] === 'gate');
    expect(gate, 'no gate call').toBeDefined();
    expect(gate!.argv).toContain('--baseline');
    expect(calls.some((c) => c.argv[0] === 'report' && c.argv[1] === 'trends')).toBe(true);
  });

  it('every npm script it runs exists in package.json', () => {
    expect(npmScripts).toContain('setup');
    expect(missingScripts).toEqual([]);
  });

  it('every clawstorm command and flag it uses exists in the CLI', async () => {
    expect(calls.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const c of calls) {
      const p = await cliProblem(c.argv);
      if (p !== undefined) problems.push(`${c.via}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('publishes the JUnit file and keeps the run folder and trends.html', () => {
    const text = JSON.stringify(doc);
    expect(text).toMatch(/junit\.xml/);
    expect(text).toMatch(/trends\.html/);
  });
});

describe('the check itself', () => {
  it('rejects an unknown flag, an unknown command and a missing npm script', async () => {
    expect(await cliProblem(['gate', '--baseline', 'last-pass', '--no-such-flag'])).toMatch(/Unknown argument/);
    expect(await cliProblem(['report', 'trendz'])).toMatch(/Unknown argument|Did you mean/);
    expect(await cliProblem(['report', 'trends', '--last', '5'])).toBeUndefined();
    expect(clawstormCalls(commands('npm run no-such-script')).missingScripts).toEqual(['no-such-script']);
    expect(clawstormCalls(commands('code=0\nbin/clawstorm gate --profile "$P" || code=$?')).calls.map((c) => c.argv)).toEqual([['gate', '--profile', 'X']]);
  });
});
