// What both exports share: loading the scenarios and the target they are exported for, the names
// of the Kubernetes objects, where tokens come from at run time, and writing the files out.
//
// Tokens are never read here. An export only learns each token's *name* and the environment
// variable that will carry it in the pod or k6 process; the values stay in a Secret the operator
// of the cluster creates.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { resolveScenario, type ScenarioFile } from '../config/scenario.ts';
import { loadTargetProfile, parseTargetProfile, type TargetProfile, type TokenRef } from '../config/profile.ts';
import { ProfileError } from '../config/errors.ts';
import { TEMPLATE_SCENARIOS } from '../report/results.ts';

/** A bad export request: exit code 2 (usage/config), one line. */
export class ExportError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

export const LOAD_PROFILES = ['smoke', 'full'] as const;
export type LoadProfile = (typeof LOAD_PROFILES)[number];

export interface ExportOptions {
  /** Scenario names or YAML files; default the plan's five. */
  scenarios?: string[];
  profile: LoadProfile;
  targetFile: string;
  outDir: string;
  /** Names every object of this export and tags its load; default from the clock. */
  runId?: string;
  namespace?: string;
  /** The ClawStorm image (judge, and the runners of `export k8s`). */
  image?: string;
  /** Secret holding the tokens, one key per token name. */
  secret?: string;
}

export const DEFAULTS = {
  namespace: 'default',
  secret: 'clawstorm-tokens',
  image: 'clawstorm:0.1.0',
} as const;

/** The plan's scenarios, or the named ones, each loaded and checked to have the load profile. */
export function loadScenarios(names: readonly string[] | undefined, profile: string): ScenarioFile[] {
  const list = names && names.length > 0 ? names : TEMPLATE_SCENARIOS.map((s) => s.name);
  const out = list.map((n) => resolveScenario(n));
  for (const s of out) {
    if (s.profiles[profile] === undefined) {
      throw new ExportError(`${s.file}: profiles.${profile}: scenario ${s.name} has no load profile ${JSON.stringify(profile)}; it has ${Object.keys(s.profiles).join(', ')}`);
    }
  }
  const seen = new Map<string, string>();
  for (const s of out) {
    const other = seen.get(s.name);
    if (other !== undefined && other !== s.file) throw new ExportError(`two scenarios are both named ${JSON.stringify(s.name)} (${other}, ${s.file}); exported files and objects are named after the scenario`);
    seen.set(s.name, s.file);
  }
  return out.filter((s, i) => out.findIndex((o) => o.file === s.file) === i);
}

export interface ExportTarget {
  profile: TargetProfile;
  /** The profile as written (YAML text), for rewriting its tokens into environment references. */
  text: string;
}

/**
 * The target the export is for. A test bed profile is refused: its URLs exist only on the machine
 * whose test bed is running, never in a cluster.
 */
export function loadExportTarget(file: string): ExportTarget {
  const profile = loadTargetProfile(file);
  if (profile.testbed) {
    throw new ExportError(`${profile.file}: testbed: target ${profile.name} is a local test bed profile; an export needs a target with lb, gateways and prometheus.url that the cluster can reach`);
  }
  return { profile, text: fs.readFileSync(file, 'utf8') };
}

/** Environment variable that carries token `name` at run time: the profile's own for `{env}` references. */
export function tokenEnvVar(ref: TokenRef | undefined, name: string): string {
  if (ref !== undefined && 'env' in ref) return ref.env;
  return `CLAWSTORM_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Token name → environment variable, for every token of the target. */
export function tokenEnv(target: TargetProfile): Record<string, string> {
  return Object.fromEntries(Object.entries(target.tokens).map(([name, ref]) => [name, tokenEnvVar(ref, name)]));
}

/**
 * The target profile as the pods read it: every token becomes an `{env: …}` reference (a
 * `{file: …}` path on the exporting machine means nothing in a pod); everything else stays as
 * written, comments included.
 */
export function targetForPods(t: ExportTarget): string {
  const doc = YAML.parseDocument(t.text);
  for (const name of Object.keys(t.profile.tokens)) doc.setIn(['tokens', name], doc.createNode({ env: tokenEnvVar(t.profile.tokens[name], name) }));
  const text = doc.toString();
  // What the pods get must still be a valid profile.
  parseTargetProfile(text, t.profile.file);
  return text;
}

/** The token names a scenario's steps send. */
export function tokensUsed(s: ScenarioFile): string[] {
  const used = new Set<string>();
  for (const j of s.journeys) {
    for (const st of j.steps) used.add('http' in st ? st.http.token : 'gateway');
  }
  return [...used].sort();
}

/** Check the target has every token the scenarios send, naming what is missing. */
export function checkTokens(scenarios: readonly ScenarioFile[], target: TargetProfile): void {
  const problems: string[] = [];
  for (const s of scenarios) {
    for (const name of tokensUsed(s)) {
      if (!(name in target.tokens)) problems.push(`${target.file}: tokens.${name}: scenario ${s.name} sends the ${name} token, but target ${target.name} names no such token`);
    }
  }
  if (problems.length > 0) throw new ProfileError(target.file, problems);
}

// ── names ────────────────────────────────────────────────────────────────────

/** Default run id: UTC time to the second (`20250102-130405`): sortable, and a valid name part. */
export function defaultRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Check a name for a Kubernetes object (RFC 1123 label, ≤ max characters). */
export function checkName(name: string, what: string, max = 63): string {
  if (name.length > max || !DNS_LABEL.test(name)) {
    throw new ExportError(`${what} ${JSON.stringify(name)} is not a valid Kubernetes name: lower-case letters, digits and "-", starting and ending with a letter or digit, at most ${max} characters (shorten --run-id)`);
  }
  return name;
}

/** A scenario name as a name part (`openclaw.x_y` → `openclaw-x-y`). */
export function namePart(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

export const LABELS = {
  app: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  run: 'clawstorm.dev/run',
  scenario: 'clawstorm.dev/scenario',
} as const;

export function labels(run: string, component: string, scenario?: string): Record<string, string> {
  return { [LABELS.app]: 'clawstorm', [LABELS.component]: component, [LABELS.run]: run, ...(scenario === undefined ? {} : { [LABELS.scenario]: scenario }) };
}

// ── output ───────────────────────────────────────────────────────────────────

/** Kubernetes objects as one YAML stream. */
export function yamlDocs(objects: readonly unknown[]): string {
  return objects.map((o) => YAML.stringify(toPlain(o), { lineWidth: 0 })).join('---\n');
}

/** Model instances (kubernetes-models) to plain data, so YAML shows no class tags. */
export function toPlain(o: unknown): unknown {
  return JSON.parse(JSON.stringify(o)) as unknown;
}

/** Relative path → contents. */
export type FileSet = Map<string, string>;

/** Write a file set under dir (created), refusing paths that would leave it. */
export function writeFileSet(dir: string, files: FileSet): string[] {
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  const written: string[] = [];
  for (const [rel, text] of files) {
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) throw new ExportError(`refusing to write ${rel} outside ${root}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(file);
  }
  return written;
}

/** The repository this module belongs to (for node_modules/@types/k6 and the Dockerfile's context). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
