import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/util/atomic-write.ts';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-atomic-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces whole files, creates the directory, and leaves no temp file', () => {
    const f = path.join(dir, 'sub', 'f.json');
    writeFileAtomic(f, 'one', { durable: true });
    writeFileAtomic(f, 'two', { durable: true });
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(f))).toEqual(['f.json']);
  });

  it('writes through a symlink: the real file changes, the link stays a link', () => {
    const real = path.join(dir, 'real.md');
    const link = path.join(dir, 'link.md');
    fs.writeFileSync(real, 'old');
    fs.symlinkSync('real.md', link);
    writeFileAtomic(link, 'new');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir).sort()).toEqual(['link.md', 'real.md']);
  });

  it("keeps an existing file's mode; forceMode sets it", () => {
    const f = path.join(dir, 'doc.md');
    fs.writeFileSync(f, 'x');
    fs.chmodSync(f, 0o640);
    writeFileAtomic(f, 'y', { mode: 0o600 });
    expect(fs.statSync(f).mode & 0o777).toBe(0o640);
    writeFileAtomic(f, 'z', { mode: 0o600, forceMode: true });
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    const g = path.join(dir, 'new.json');
    writeFileAtomic(g, '{}', { mode: 0o600 });
    expect(fs.statSync(g).mode & 0o777).toBe(0o600);
  });

  it('a failed rename leaves the old content and no temp file', () => {
    const f = path.join(dir, 'target');
    fs.mkdirSync(f); // renaming a file over a directory fails
    expect(() => writeFileAtomic(f, 'data')).toThrow();
    expect(fs.statSync(f).isDirectory()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['target']);
  });
});
