// Shared by the export tests: every scenario file of the repository, and a target whose tokens
// have known (sentinel) values, so a test can look for them in what an export wrote.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadTargetProfile } from '../../../src/config/profile.ts';
import { resolveTokens } from '../../../src/target/tokens.ts';
import { SCENARIO_DIR } from '../../../src/config/scenario.ts';

export const FIXTURE_TARGET = path.resolve(import.meta.dirname, '../../fixtures/export/target.yaml');

/** Every scenario file under scenarios/ (drill files, under drills/, are not scenarios). */
export function allScenarioFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        // drills/ and canary/ hold drill files and Argo analysis templates, not load scenarios.
        if (e.name !== 'drills' && e.name !== 'canary') walk(p);
      } else if (e.name.endsWith('.yaml')) out.push(p);
    }
  };
  walk(SCENARIO_DIR);
  return out.sort();
}

export interface SecretTarget {
  dir: string;
  file: string;
  /** Token name → the value the test planted. */
  values: Record<string, string>;
  cleanup(): void;
}

/**
 * The fixture target in a temp dir with its token files written and its token variables set, each
 * to a long random value; resolveTokens proves the values are what the profile's tokens resolve to.
 */
export function targetWithSecrets(): SecretTarget {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-export-target-'));
  const file = path.join(dir, 'target.yaml');
  fs.copyFileSync(FIXTURE_TARGET, file);
  const raw = YAML.parse(fs.readFileSync(file, 'utf8')) as { tokens: Record<string, { env?: string; file?: string }> };
  const values: Record<string, string> = {};
  const saved: Record<string, string | undefined> = {};
  for (const [name, ref] of Object.entries(raw.tokens)) {
    const value = `sentinel-${name}-${crypto.randomUUID()}`;
    values[name] = value;
    if (ref.env !== undefined) {
      saved[ref.env] = process.env[ref.env];
      process.env[ref.env] = value;
    } else if (ref.file !== undefined) {
      fs.writeFileSync(path.join(dir, ref.file), `${value}\n`, { mode: 0o600 });
    }
  }
  const resolved = resolveTokens(loadTargetProfile(file));
  for (const [name, value] of Object.entries(values)) {
    if (resolved[name] !== value) throw new Error(`test setup: token ${name} resolves to something else than the planted value`);
  }
  return {
    dir,
    file,
    values,
    cleanup: () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under dir (recursively), relative path → text. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** The YAML documents of a manifest file. */
export function yamlDocs(text: string): Array<Record<string, unknown>> {
  return YAML.parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}
