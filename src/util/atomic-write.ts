// One way to replace a file: write a temp file beside it, rename it over the target. A reader
// (or a crash) sees the old content or the new, never half of one.
//
// - A symlink is written through: the file it points at is replaced, the link stays a link.
// - The file's mode is kept when it exists (a team's document stays as they set it); `mode`
//   applies to new files, and forces the mode when `forceMode` is set (state files with tokens).
// - `durable` also fsyncs the file and its directory: the drill journal and the notifier's
//   fallback counter must survive a power cut, a report need not.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of a new file (default 0o644 less the umask), or of any file with `forceMode`. */
  mode?: number;
  forceMode?: boolean;
  durable?: boolean;
}

/** The file a write to `file` lands in: the end of its symlink chain, or `file` itself. */
export function realTarget(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // A dangling link is written at the path it names; a plain new file at its own path.
    try {
      const link = fs.readlinkSync(file);
      return path.resolve(path.dirname(file), link);
    } catch {
      return path.resolve(file);
    }
  }
}

export function writeFileAtomic(file: string, text: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const target = realTarget(file);
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true, ...(opts.durable ? { mode: 0o700 } : {}) });
  let mode = opts.mode;
  if (!opts.forceMode) {
    try {
      mode = fs.statSync(target).mode & 0o7777;
    } catch {
      // new file: opts.mode or the default
    }
  }
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode ?? 0o666);
  try {
    fs.writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    // openSync's mode passes through the umask; an existing file's mode must come back exactly.
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    if (opts.durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (opts.durable) fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not every file system lets a directory be fsync'd; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
