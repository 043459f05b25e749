// `clawstorm export k8s`: the runner Indexed Job, the judge Job, the ConfigMap, the results claim
// and the Dockerfile — valid for the API server, offering exactly the plan over N shards, and free
// of token values.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IJob } from 'kubernetes-models/batch/v1';
import { REPO_ROOT } from '../../../src/export/common.ts';
import { judgeFromResults } from '../../../src/export/judge.ts';
import { exportK8s, planK8sExport, RESULTS_DIR } from '../../../src/export/k8s/export.ts';
import { dockerfile, IMAGE_PATHS, pinnedNodeVersion } from '../../../src/export/k8s/dockerfile.ts';
import { runnerCommand, runnerJobProblems, shQuote } from '../../../src/export/k8s/runner.ts';
import { jobProblems, manifestProblems } from '../../../src/export/manifests.ts';
import { parseShard, segmentString } from '../../../src/load/segment.ts';
import { TEMPLATE_SCENARIOS } from '../../../src/report/results.ts';
import { readTree, targetWithSecrets, yamlDocs, type SecretTarget } from './helpers.ts';

let secrets: SecretTarget;
let tmp: string;
let tree: Map<string, string>;
const RUNNERS = 4;

beforeAll(() => {
  secrets = targetWithSecrets();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-export-k8s-'));
  exportK8s({ profile: 'full', targetFile: secrets.file, outDir: tmp, runners: RUNNERS, runId: 'nightly-1' });
  tree = readTree(tmp);
});

afterAll(() => {
  secrets.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const jobs = (): { runners: IJob; judge: IJob } => {
  const [runners, judge] = yamlDocs(tree.get('k8s/run.yaml')!) as unknown as [IJob, IJob];
  return { runners, judge };
};

describe('export k8s: manifests', () => {
  it('writes the runner and judge Jobs, the ConfigMap, the results claim, the Dockerfile', () => {
    expect([...tree.keys()].sort()).toEqual(['Dockerfile', 'README.md', 'k8s/config.yaml', 'k8s/results-claim.yaml', 'k8s/run.yaml']);
  });

  it('every object is valid (kubernetes-models and the API server’s rules)', () => {
    for (const [file, text] of tree) {
      if (!file.startsWith('k8s/')) continue;
      for (const d of yamlDocs(text)) expect(manifestProblems(d), `${file} ${String(d.kind)}`).toEqual([]);
    }
  });

  it(`the runners: an Indexed Job of ${RUNNERS} pods at once, each index once, the shard from JOB_COMPLETION_INDEX`, () => {
    const { runners } = jobs();
    expect(runners.spec).toMatchObject({ completionMode: 'Indexed', completions: RUNNERS, parallelism: RUNNERS, backoffLimitPerIndex: 0 });
    expect(runnerJobProblems(runners, RUNNERS)).toEqual([]);
    const c = runners.spec!.template.spec!.containers[0]!;
    expect(c.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(c.command?.[2]).toBe(
      runnerCommand({
        scenarios: TEMPLATE_SCENARIOS.map((s) => `/etc/clawstorm/scenarios/${s.name}.yaml`),
        profile: 'full',
        target: '/etc/clawstorm/target.yaml',
        runners: RUNNERS,
        run: 'nightly-1',
        resultsDir: `${RESULTS_DIR}/nightly-1`,
        barrier: `${RESULTS_DIR}/nightly-1/start.json`,
      })[2],
    );
    // Tokens come from the Secret, by reference.
    expect(c.env).toEqual([{ name: 'OPENCLAW_GATEWAY_TOKEN', valueFrom: { secretKeyRef: { name: 'clawstorm-tokens', key: 'gateway' } } }]);
  });

  it('the shell gives pod i shard i+1/N, whose segments are the even sequence the k6-operator uses', async () => {
    const cmd = runnerCommand({ scenarios: ['/s/a b.yaml'], profile: 'smoke', target: '/t.yaml', runners: RUNNERS, run: 'r', resultsDir: '/results/r', barrier: '/results/r/start.json' })[2]!;
    const segments: string[] = [];
    for (let i = 0; i < RUNNERS; i++) {
      // Print the arguments instead of running clawstorm: the words the runner would get.
      const r = await execa('/bin/sh', ['-c', cmd.replace(/^exec clawstorm /, 'printf "%s\\n" ')], { env: { JOB_COMPLETION_INDEX: String(i) }, timeout: 5_000 });
      const argv = r.stdout.split('\n');
      expect(argv.slice(0, 2)).toEqual(['run', '/s/a b.yaml']);
      expect(argv[argv.indexOf('--runner-id') + 1]).toBe(`r-${i + 1}`);
      expect(argv[argv.indexOf('--barrier') + 1]).toBe('/results/r/start.json');
      segments.push(segmentString(parseShard(argv[argv.indexOf('--shard') + 1]!).segment));
    }
    expect(segments).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1']);
  });

  it('the judge: one command line over all runners’ results, waiting a bounded time', () => {
    const { judge } = jobs();
    const c = judge.spec!.template.spec!.containers[0]!;
    expect(c.command?.slice(0, 5)).toEqual(['clawstorm', 'judge', '--run', 'nightly-1', '--runners']);
    const wait = c.command![c.command!.indexOf('--wait-up-to') + 1]!;
    expect(c.command).toEqual(
      judgeFromResults({
        run: 'nightly-1',
        runners: RUNNERS,
        profile: 'full',
        target: '/etc/clawstorm/target.yaml',
        scenarios: TEMPLATE_SCENARIOS.map((s) => `/etc/clawstorm/scenarios/${s.name}.yaml`),
        resultsDir: `${RESULTS_DIR}/nightly-1`,
        waitUpToS: Number(wait.slice(0, -1)),
        releaseBarrier: `${RESULTS_DIR}/nightly-1/start.json`,
      }),
    );
    // The judge is the runners' starter: it releases the very file they wait at.
    const runnerCmd = jobs().runners.spec!.template.spec!.containers[0]!.command![2]!;
    expect(runnerCmd).toContain(`--barrier ${c.command![c.command!.indexOf('--release-barrier') + 1]}`);
    // Long enough for the full profile's 30-minute mixed workload, and not unbounded.
    expect(Number(wait.slice(0, -1))).toBeGreaterThan(30 * 60);
    expect(judge.spec!.activeDeadlineSeconds).toBeGreaterThan(Number(wait.slice(0, -1)));
    expect(judge.spec!.backoffLimit).toBe(0);
    const mounts = c.volumeMounts!.map((m) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/etc/clawstorm', RESULTS_DIR]));
  });

  it('the ConfigMap holds the scenario files as written and the target with token references only', () => {
    const [cm] = yamlDocs(tree.get('k8s/config.yaml')!) as Array<{ data: Record<string, string> }>;
    for (const s of TEMPLATE_SCENARIOS) expect(cm!.data[`${s.name}.yaml`]).toBe(fs.readFileSync(path.join(REPO_ROOT, 'scenarios', `${s.name}.yaml`), 'utf8'));
    expect(cm!.data['target.yaml']).toMatch(/hook:\n\s+env: CLAWSTORM_TOKEN_HOOK/);
    expect(cm!.data['target.yaml']).not.toMatch(/file:/);
  });

  it('no token value appears in any written file', () => {
    for (const [file, text] of tree) {
      for (const [name, value] of Object.entries(secrets.values)) expect(text.includes(value), `${file} holds the ${name} token`).toBe(false);
    }
  });
});

describe('export k8s: the checks catch a wrong field', () => {
  const mutate = (edit: (j: IJob) => void): IJob => {
    const j = structuredClone(jobs().runners);
    edit(j);
    return j;
  };

  it('an Indexed Job without completions', () => {
    const j = mutate((x) => delete x.spec!.completions);
    expect(jobProblems(j)).toContain('Job/nightly-1-runners: spec.completions is required when completionMode is Indexed');
    expect(manifestProblems(j).join('\n')).toMatch(/completions is required/);
    expect(runnerJobProblems(j, RUNNERS).join('\n')).toMatch(/completions must be 4/);
  });

  it('runners not all at once, retried shards, a restarting pod, the wrong shard count', () => {
    expect(runnerJobProblems(mutate((x) => (x.spec!.parallelism = 2)), RUNNERS).join('\n')).toMatch(/parallelism must be 4/);
    expect(runnerJobProblems(mutate((x) => delete x.spec!.backoffLimitPerIndex), RUNNERS).join('\n')).toMatch(/backoffLimitPerIndex must be 0/);
    expect(runnerJobProblems(mutate((x) => (x.spec!.template.spec!.restartPolicy = 'OnFailure')), RUNNERS).join('\n')).toMatch(/restartPolicy must be Never/);
    expect(runnerJobProblems(jobs().runners, 5).join('\n')).toMatch(/--shard from JOB_COMPLETION_INDEX, of 5/);
  });

  it('what the API server refuses: restartPolicy Always, a missing image, a mount of no volume, a bad env name', () => {
    expect(manifestProblems(mutate((x) => (x.spec!.template.spec!.restartPolicy = 'Always'))).join('\n')).toMatch(/restartPolicy must be Never or OnFailure/);
    expect(manifestProblems(mutate((x) => delete x.spec!.template.spec!.containers[0]!.image)).join('\n')).toMatch(/image is required/);
    expect(manifestProblems(mutate((x) => (x.spec!.template.spec!.volumes = []))).join('\n')).toMatch(/mounts volume clawstorm-config, which the pod does not define/);
    expect(manifestProblems(mutate((x) => (x.spec!.template.spec!.containers[0]!.env![0]!.name = '1 bad'))).join('\n')).toMatch(/env 1 bad is not a valid variable name/);
    expect(manifestProblems(mutate((x) => ((x.spec as { completions: unknown }).completions = '4'))).join('\n')).toMatch(/completions must be integer/);
  });
});

describe('export k8s: the runner image', () => {
  const text = dockerfile();

  it('runs the Node the lockfile pins, from the npm package node, with production dependencies only', () => {
    const pinned = pinnedNodeVersion();
    const installed = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string }).version;
    expect(pinned).toBe(installed);
    expect(text).toContain('RUN npm ci --omit=dev');
    expect(text).toContain(`npm install --omit=dev --no-audit --no-fund node@${pinned}`);
    expect(text).toContain('ln -sf ../node/bin/node /app/node_modules/.bin/node');
    expect(text).toContain(`FROM node:${pinned.split('.')[0]}-bookworm-slim AS build`);
    expect(tree.get('Dockerfile')).toBe(text);
  });

  it('copies everything the CLI imports (bin/clawstorm runs src/cli/main.ts)', () => {
    expect(fs.readFileSync(path.join(REPO_ROOT, 'bin', 'clawstorm'), 'utf8')).toContain('src/cli/main.ts');
    // Follow relative imports from the CLI's entry: every file must lie under a copied directory.
    const seen = new Set<string>();
    const todo = [path.join(REPO_ROOT, 'src', 'cli', 'main.ts')];
    while (todo.length > 0 && seen.size < 2_000) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const src = fs.readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) todo.push(path.resolve(path.dirname(file), m[1]!));
    }
    expect(seen.size).toBeGreaterThan(50);
    const outside = [...seen].map((f) => path.relative(REPO_ROOT, f)).filter((f) => !(IMAGE_PATHS as readonly string[]).includes(f.split(path.sep)[0]!));
    expect(outside).toEqual([]);
    for (const p of IMAGE_PATHS) expect(text).toContain(`COPY ${p} ./${p}`);
  });
});

describe('export k8s: refusals', () => {
  it('bad requests are one clear line', () => {
    expect(() => planK8sExport({ profile: 'smoke', targetFile: path.join(REPO_ROOT, 'profiles/openclaw.yaml'), outDir: tmp, runners: 2 })).toThrow(/local test bed profile/);
    expect(() => planK8sExport({ profile: 'smoke', targetFile: secrets.file, outDir: tmp, runners: 2, runId: 'Nightly_1' })).toThrow(/run id "Nightly_1" is not a valid Kubernetes name/);
    expect(() => planK8sExport({ profile: 'smoke', targetFile: secrets.file, outDir: tmp, runners: 1.5 })).toThrow(/--runners must be a whole number/);
    expect(() => planK8sExport({ scenarios: ['no-such-scenario'], profile: 'smoke', targetFile: secrets.file, outDir: tmp, runners: 2 })).toThrow(/unknown scenario "no-such-scenario"/);
  });

  it('shell quoting keeps odd paths one word', () => {
    expect(shQuote('/plain/path.yaml')).toBe('/plain/path.yaml');
    expect(shQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});
