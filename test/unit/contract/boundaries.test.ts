// The product (src/) and the simulated fleet (harness/) meet only at the contract: wire shapes in
// contract/, and the neutral helpers of src/util/. The one part of the product that starts the
// fleet, src/testbed/, may use the fleet's launchers and launch configs, nothing else of it.
// Imports are read with TypeScript's own pre-processor (static and dynamic imports alike).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

interface Edge {
  from: string;
  to: string;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function importsOf(file: string): Edge[] {
  const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => ({ from: file, to: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), s)) }));
}

/** harness/ files the bed launcher (src/testbed/) may use: launchers and launch configs. */
const LAUNCH_SURFACE = [/^harness\/launch\//, /^harness\/openclaw\//, /^harness\/db\/(migrate|pglite-config)\.ts$/, /^harness\/[a-z]+\/config\.ts$/];

function violation(e: Edge): string | undefined {
  const side = (p: string) => p.split(path.sep)[0];
  const from = side(e.from);
  const to = side(e.to);
  if (from === 'contract' && to !== 'contract') return 'contract/ imports nothing from either side';
  if (from === 'harness' && to === 'src' && !e.to.startsWith('src/util/')) return 'harness/ may import only contract/ and src/util/ from outside itself';
  if (e.from.startsWith('src/util/') && !e.to.startsWith('src/util/')) return 'src/util/ is neutral: it imports only itself';
  if (from === 'src' && to === 'harness') {
    if (!e.from.startsWith('src/testbed/')) return 'only src/testbed/ (the launcher of the local fleet) may import harness/';
    if (!LAUNCH_SURFACE.some((re) => re.test(e.to))) return 'src/testbed/ may import only the fleet\'s launchers and launch configs';
  }
  return undefined;
}

/** Directory-level cycles among src/<dir>, harness/<dir> and contract. */
function directoryCycles(edges: readonly Edge[]): string[][] {
  const dirOf = (p: string) => {
    const parts = p.split(path.sep);
    return parts[0] === 'contract' ? 'contract' : parts.slice(0, 2).join('/');
  };
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = dirOf(e.from);
    const b = dirOf(e.to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  // Tarjan's strongly connected components: any component with more than one directory is a loop.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('product / test-bed boundary', () => {
  const files = [...tsFiles('src'), ...tsFiles('harness'), ...tsFiles('contract')];
  const edges = files.flatMap(importsOf);

  it('the checker catches each kind of crossing (what it guards against)', () => {
    expect(violation({ from: 'harness/gateway/ws.ts', to: 'src/chaos/engine.ts' })).toMatch(/harness/);
    expect(violation({ from: 'harness/launch/haproxy.ts', to: 'src/testbed/supervise.ts' })).toMatch(/harness/);
    expect(violation({ from: 'src/chaos/engine.ts', to: 'harness/gateway/probe-schema.ts' })).toMatch(/only src\/testbed/);
    expect(violation({ from: 'src/testbed/up.ts', to: 'harness/gateway/ws.ts' })).toMatch(/launchers/);
    expect(violation({ from: 'contract/probe.ts', to: 'src/util/wait.ts' })).toMatch(/contract/);
    expect(violation({ from: 'src/util/wait.ts', to: 'src/load/engine.ts' })).toMatch(/neutral/);
    expect(violation({ from: 'harness/launch/haproxy.ts', to: 'src/util/proc.ts' })).toBeUndefined();
    expect(violation({ from: 'src/testbed/up.ts', to: 'harness/gateway/config.ts' })).toBeUndefined();
    expect(directoryCycles([{ from: 'src/chaos/a.ts', to: 'src/storm/b.ts' }, { from: 'src/storm/b.ts', to: 'src/chaos/c.ts' }])).toEqual([['src/chaos', 'src/storm']]);
  });

  it('reads the imports of every file (static and dynamic)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(edges.some((e) => e.from === 'src/cli/main.ts')).toBe(true);
    const dynamic = ts.preProcessFile("const m = await import('./x.ts');", true, true).importedFiles.map((f) => f.fileName);
    expect(dynamic).toEqual(['./x.ts']);
  });

  it('no file crosses the boundary', () => {
    const bad = edges.flatMap((e) => {
      const why = violation(e);
      return why === undefined ? [] : [`${e.from} → ${e.to}: ${why}`];
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('no directory imports one that imports it back', () => {
    const cycles = directoryCycles(edges);
    expect(cycles, cycles.map((c) => c.join(' ↔ ')).join('\n')).toEqual([]);
  });
});
