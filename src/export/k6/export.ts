// `clawstorm export k6`: the scenarios as k6 scripts (TypeScript against @types/k6) with their
// tsconfig, and the k6-operator manifests that run them distributed and judge them centrally.
import fs from 'node:fs';
import path from 'node:path';
import { MAX_SHARDS } from '../../load/segment.ts';
import {
  checkTokens,
  defaultRunId,
  DEFAULTS,
  ExportError,
  loadExportTarget,
  loadScenarios,
  REPO_ROOT,
  targetForPods,
  tokensUsed,
  writeFileSet,
  yamlDocs,
  type ExportOptions,
  type FileSet,
} from '../common.ts';
import { checkManifests } from '../manifests.ts';
import { judgeTokenNames } from '../pods.ts';
import { judgeConfigMap, judgeJob, judgeRole, judgeRoleBinding, judgeServiceAccount, scriptsConfigMap, testRun, testRunName, type K6ManifestInput } from './operator.ts';
import { RUNTIME_FILE, RUNTIME_SOURCE } from './runtime.ts';
import { generateScript } from './script.ts';

export interface K6ExportOptions extends ExportOptions {
  /** k6 runners per TestRun (the operator's parallelism). */
  runners: number;
  /** Prometheus remote-write endpoint; default the target's Prometheus + /api/v1/write. */
  remoteWriteUrl?: string;
  /** Where @types/k6 lives, for the exported tsconfig; default this repository's node_modules. */
  k6TypesDir?: string;
}

export interface ExportResult {
  outDir: string;
  runId: string;
  files: string[];
}

export function checkRunners(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) throw new ExportError(`--runners must be a whole number from 1 to ${MAX_SHARDS} (got ${n})`);
  return n;
}

/**
 * The tsconfig that type-checks the exported scripts against @types/k6 and nothing else: no DOM,
 * no Node (k6 has neither), k6's module names mapped to the types' directory.
 */
export function k6Tsconfig(outDir: string, typesDir: string): string {
  let rel = path.relative(path.resolve(outDir), path.resolve(typesDir)).split(path.sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022'],
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      skipLibCheck: false,
      paths: { k6: [`${rel}/index.d.ts`], 'k6/*': [`${rel}/*`] },
    },
    include: ['*.ts'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function planK6Export(o: K6ExportOptions): { files: FileSet; runId: string } {
  const runners = checkRunners(o.runners);
  const run = o.runId ?? defaultRunId();
  const scenarios = loadScenarios(o.scenarios, o.profile);
  const target = loadExportTarget(o.targetFile);
  checkTokens(scenarios, target.profile);
  const promUrl = target.profile.prometheus.url;
  const remoteWriteUrl = o.remoteWriteUrl ?? (promUrl === undefined ? undefined : `${promUrl.replace(/\/+$/, '')}/api/v1/write`);
  if (remoteWriteUrl === undefined) throw new ExportError(`${target.profile.file}: prometheus.url: the target names no Prometheus; give --remote-write-url`);

  const scripts = new Map<string, string>();
  for (const s of scenarios) {
    const sc = generateScript({ scenario: s, profile: o.profile, target: target.profile });
    scripts.set(sc.file, sc.text);
  }
  const input: K6ManifestInput = {
    run,
    namespace: o.namespace ?? DEFAULTS.namespace,
    runners,
    profile: o.profile,
    scenarios,
    target: target.profile,
    targetYaml: targetForPods(target),
    scripts,
    scenarioYaml: new Map(scenarios.map((s) => [s.name, fs.readFileSync(s.file, 'utf8')])),
    runtime: RUNTIME_SOURCE,
    secret: o.secret ?? DEFAULTS.secret,
    image: o.image ?? DEFAULTS.image,
    remoteWriteUrl,
  };
  const shared = [scriptsConfigMap(input), judgeConfigMap(input), judgeServiceAccount(input), judgeRole(input), judgeRoleBinding(input)];
  const perScenario = scenarios.map((s) => ({ s, objects: [testRun(input, s), judgeJob(input, s)] }));
  checkManifests([...shared, ...perScenario.flatMap((p) => p.objects)]);

  const files: FileSet = new Map();
  for (const [file, text] of scripts) files.set(file, text);
  files.set(RUNTIME_FILE, RUNTIME_SOURCE);
  files.set('tsconfig.json', k6Tsconfig(o.outDir, o.k6TypesDir ?? path.join(REPO_ROOT, 'node_modules', '@types', 'k6')));
  files.set('k8s/shared.yaml', yamlDocs(shared));
  for (const p of perScenario) files.set(`k8s/${p.s.name}.yaml`, yamlDocs(p.objects));
  files.set('README.md', readme(input));
  return { files, runId: run };
}

export function exportK6(o: K6ExportOptions): ExportResult {
  const { files, runId } = planK6Export(o);
  return { outDir: path.resolve(o.outDir), runId, files: writeFileSet(o.outDir, files) };
}

function readme(i: K6ManifestInput): string {
  const tokens = [...new Set([...i.scenarios.flatMap((s) => tokensUsed(s)), ...judgeTokenNames(i.target)])].sort();
  return [
    `# k6 export of run ${i.run} (${i.profile} profile, target ${i.target.name})`,
    '',
    'Written by `clawstorm export k6`; export again rather than editing.',
    '',
    `- \`<scenario>.ts\`: one k6 script per scenario, importing \`${RUNTIME_FILE}\`; \`tsconfig.json\` type-checks them against @types/k6 (\`tsc -p .\`).`,
    '- `k8s/shared.yaml`: the scripts ConfigMap, the judge ConfigMap (target profile with token references, scenario files), the judge ServiceAccount and Role.',
    `- \`k8s/<scenario>.yaml\`: the scenario's k6-operator TestRun (${i.runners} runners) and its judge Job.`,
    '',
    'Tokens are never in these files. Create the Secret they reference first, one key per token name:',
    '',
    '```sh',
    `kubectl -n ${i.namespace} create secret generic ${i.secret} ${tokens.map((t) => `--from-literal=${t}=…`).join(' ')}`,
    `kubectl -n ${i.namespace} apply -f k8s/shared.yaml`,
    '```',
    '',
    'Then one scenario at a time (scenarios run one after another, as in a ClawStorm run):',
    '',
    '```sh',
    ...i.scenarios.map((s) => `kubectl -n ${i.namespace} apply -f k8s/${s.name}.yaml   # then: kubectl -n ${i.namespace} logs -f job/${testRunName(i.run, s)}-judge`),
    '```',
    '',
    "The judge's verdict is the run's: runners skip k6 thresholds (--no-thresholds), and the judge",
    'reads every runner\'s samples back from Prometheus. Prometheus must accept remote writes',
    '(`--web.enable-remote-write-receiver`) and native histograms.',
    '',
  ].join('\n');
}
