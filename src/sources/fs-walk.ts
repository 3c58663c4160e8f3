// The fs driver's directory walk, on whichever thread lists (the driver's own, or fs-walk-worker.ts).
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { lstat, readdir, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { StorageError } from '../errors.ts';
import { keyPath, nameToKey, resolveKeyPath } from './fs-names.ts';
import type { SourceEntry, SourceWarning } from './types.ts';

export interface FsWalkOptions {
  /** Absolute root directory. */
  root: string;
  /** Globs (relative to root) a file must match to be listed. Default: everything. */
  include?: string[];
  /** Globs (relative to root) of files and directories to leave out; a matching directory is not descended. */
  exclude?: string[];
  /** Follow symbolic links (loop-safe: a directory already on the current path is reported and skipped). Default false. */
  followSymlinks?: boolean;
  /** Concurrent lstat calls per directory; NFS latency makes parallel stats worth it. Default 32. */
  statConcurrency?: number;
  /**
   * How the walk calls the filesystem. `sync`: plain system calls, the cheapest on a local disk (a
   * thread-pool round trip costs more than the call). `async`: many calls in flight, which is what a
   * network filesystem needs (its latency, not the disk, limits a walk). `auto` (default): `async` on
   * NFS/SMB/FUSE and other network filesystems (from statfs), `sync` elsewhere.
   */
  io?: 'auto' | 'sync' | 'async';
}

/** Messages name the driver the walk lists for. */
const DRIVER_NAME = 'fs';

/** statfs f_type of filesystems where every call crosses a network: NFS, SMB/CIFS, SMB2, FUSE (sshfs, s3fs…), Ceph, Lustre, GlusterFS via FUSE, AFS, 9p. */
const NETWORK_FS = new Set([0x6969, 0xff534d42, 0xfe534d42, 0x517b, 0x65735546, 0x00c36400, 0x0bd00bd0, 0x5346414f, 0x01021997]);

/** Sub-directories read ahead per level while the walk is elsewhere (see walkDir). */
const PREFETCH_DIRS = 8;

/** Lists the files under `prefix` (relative to the root), in the order the walk meets them. */
export function walkTree(opts: FsWalkOptions, prefix: string): AsyncGenerator<SourceEntry | SourceWarning> {
  const include = opts.include && opts.include.length > 0 ? picomatch(opts.include, { dot: true }) : () => true;
  const exclude = opts.exclude && opts.exclude.length > 0 ? picomatch(opts.exclude, { dot: true }) : () => false;
  const root = path.resolve(opts.root);
  return walk({
    root,
    start: prefix.replace(/\/+$/, ''),
    include,
    exclude,
    follow: opts.followSymlinks ?? false,
    concurrency: opts.statConcurrency ?? 32,
    io: opts.io ?? 'auto',
    ops: ASYNC_OPS,
  });
}

// --- internal ---

interface WalkOptions {
  root: string;
  start: string;
  include: (p: string) => boolean;
  exclude: (p: string) => boolean;
  follow: boolean;
  concurrency: number;
  io: 'auto' | 'sync' | 'async';
  ops: FsOps;
}

/** The calls a walk makes, as plain system calls or thread-pool round trips (see `io`). */
interface FsOps {
  readdir(p: string | Buffer): Dirent<Buffer>[] | Promise<Dirent<Buffer>[]>;
  lstat(p: string | Buffer): Stats | Promise<Stats>;
  stat(p: string | Buffer): Stats | Promise<Stats>;
  realpath(p: string | Buffer): string | Promise<string>;
}

// Names are read as bytes (see fs-names.ts): a name that is not UTF-8 still gets a key that reads it back.
const ASYNC_OPS: FsOps = { readdir: (p) => readdir(p, { withFileTypes: true, encoding: 'buffer' }), lstat, stat, realpath: (p) => realpath(p) };
const SYNC_OPS: FsOps = {
  readdir: (p) => readdirSync(p, { withFileTypes: true, encoding: 'buffer' }),
  lstat: (p) => lstatSync(p),
  stat: (p) => statSync(p),
  realpath: (p) => realpathSync(p),
};

interface Child {
  name: string;
  key: string;
  isDir: boolean;
  symlink: boolean;
  /** Real path of a followed directory symlink, for loop detection. */
  real?: string;
  entry?: SourceEntry;
}

async function* walk(opts: WalkOptions): AsyncGenerator<SourceEntry | SourceWarning> {
  const startAbs = resolveKey(opts.root, opts.start);
  let rootInfo;
  try {
    rootInfo = await stat(startAbs);
  } catch (err) {
    if (opts.start !== '' && isCode(err, 'ENOENT')) {
      return;
    }
    throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] list ${startAbs}: ${codeOf(err)}`, { cause: err });
  }
  if (!rootInfo.isDirectory()) {
    throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] list ${startAbs}: not a directory`);
  }
  if (await isLocal(startAbs, opts.io)) {
    opts.ops = SYNC_OPS;
  }
  const startReal = await realpath(startAbs);
  const ancestors = new Set<string>([startReal]);
  yield* walkDir(opts, opts.start, startReal, readDir(opts, opts.start, ancestors), ancestors);
}

interface DirRead {
  children: Child[];
  warnings: SourceWarning[];
  error?: SourceWarning;
}

/**
 * Walks a directory whose read is already under way. Sub-directories are read ahead, PREFETCH_DIRS at a
 * time per level, while earlier ones are being walked: a walk is a chain of small round trips (readdir,
 * lstat), and on NFS their latency, not the disk, is what limits a sequential walk. Output order is
 * unchanged: byte order of key.
 * `ancestors` holds the real path of every directory on the current path, so a symlink back to any of them is a loop.
 */
async function* walkDir(
  opts: WalkOptions,
  dirKey: string,
  dirReal: string,
  pending: Promise<DirRead>,
  ancestors: ReadonlySet<string>,
): AsyncGenerator<SourceEntry | SourceWarning> {
  const read = await pending;
  if (read.error) {
    yield read.error;
    return;
  }
  yield* read.warnings;
  const dirs = read.children.filter((child) => child.isDir);
  const ahead = new Map<Child, { real: string; ancestors: Set<string>; read: Promise<DirRead> }>();
  let started = 0;
  const prefetch = (upTo: number) => {
    while (started < dirs.length && started < upTo) {
      const child = dirs[started++] as Child;
      // A plain sub-directory's real path is its parent's plus its name: no realpath call needed.
      const real = child.real ?? path.join(dirReal, child.name);
      const childAncestors = new Set(ancestors).add(real);
      ahead.set(child, { real, ancestors: childAncestors, read: readDir(opts, child.key, childAncestors) });
    }
  };
  prefetch(PREFETCH_DIRS);
  let entered = 0;
  for (const child of read.children) {
    if (child.isDir) {
      entered += 1;
      prefetch(entered + PREFETCH_DIRS);
      const next = ahead.get(child) as { real: string; ancestors: Set<string>; read: Promise<DirRead> };
      ahead.delete(child);
      yield* walkDir(opts, child.key, next.real, next.read, next.ancestors);
    } else if (child.entry && opts.include(child.key)) {
      yield child.entry;
    }
  }
}

/** Lists and stats one directory; never rejects (a failure is a warning). */
async function readDir(opts: WalkOptions, dirKey: string, ancestors: ReadonlySet<string>): Promise<DirRead> {
  const children: Child[] = [];
  const warnings: SourceWarning[] = [];
  try {
    for (const dirent of await opts.ops.readdir(walkPath(opts.root, dirKey))) {
      const name = nameToKey(dirent.name);
      const key = dirKey === '' ? name : `${dirKey}/${name}`;
      if (opts.exclude(key)) {
        continue;
      }
      children.push({ name, key, isDir: dirent.isDirectory(), symlink: dirent.isSymbolicLink() });
    }
  } catch (err) {
    return { children: [], warnings, error: warning(dirKey, err) };
  }
  await resolveChildren(opts, children, warnings, ancestors);
  const sortKeys = new Map(children.map((c) => [c, Buffer.from(c.isDir ? `${c.name}/` : c.name)]));
  children.sort((a, b) => Buffer.compare(sortKeys.get(a) as Buffer, sortKeys.get(b) as Buffer));
  return { children, warnings };
}

/** Stats files (and resolves symlinks when following) with bounded concurrency. */
async function resolveChildren(opts: WalkOptions, children: Child[], warnings: SourceWarning[], ancestors: ReadonlySet<string>): Promise<void> {
  let next = 0;
  async function worker(): Promise<void> {
    while (next < children.length) {
      const child = children[next++] as Child;
      const abs = walkPath(opts.root, child.key);
      try {
        if (child.symlink) {
          if (!opts.follow) {
            child.isDir = false;
            continue;
          }
          const target = await opts.ops.stat(abs);
          child.isDir = target.isDirectory();
          if (child.isDir) {
            const real = await opts.ops.realpath(abs);
            if (ancestors.has(real)) {
              warnings.push({
                kind: 'warning',
                key: child.key,
                code: 'symlink-loop',
                message: `[${DRIVER_NAME}] ${child.key}: symlink loop to ${real}, not followed`,
              });
              child.isDir = false;
              continue;
            }
            child.real = real;
            continue;
          }
          // Only regular files are listed: a FIFO, socket or device behind a link is no file of a run.
          if (target.isFile()) {
            child.entry = { key: child.key, size: target.size, mtime: target.mtimeMs };
          }
          continue;
        }
        if (child.isDir) {
          continue;
        }
        const info = await opts.ops.lstat(abs);
        if (info.isFile()) {
          child.entry = { key: child.key, size: info.size, mtime: info.mtimeMs };
        }
      } catch (err) {
        child.isDir = false;
        warnings.push(warning(child.key, err));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, children.length) }, worker));
}

/** Whether plain system calls suit this path (see FsDriverOptions.io); a failing statfs counts as remote (the careful choice). */
export async function isLocal(abs: string | Buffer, io: 'auto' | 'sync' | 'async'): Promise<boolean> {
  if (io !== 'auto') {
    return io === 'sync';
  }
  try {
    return !NETWORK_FS.has(Number((await statfs(abs)).type));
  } catch {
    return false;
  }
}

/** Paths of entries the walk itself found (names from readdir): plain concatenation, no normalising needed. */
function walkPath(root: string, key: string): string | Buffer {
  return keyPath(root, key);
}

export function resolveKey(root: string, key: string): string | Buffer {
  const abs = resolveKeyPath(root, key);
  if (abs === null) {
    throw new StorageError('storage-read-failed', `[${DRIVER_NAME}] ${key}: escapes the root`);
  }
  return abs;
}

function warning(key: string, err: unknown): SourceWarning {
  const code =
    isCode(err, 'EACCES') || isCode(err, 'EPERM')
      ? 'permission-denied'
      : isCode(err, 'ENOENT')
        ? 'vanished'
        : isCode(err, 'ENOTDIR')
          ? 'not-a-directory'
          : isCode(err, 'ELOOP')
            ? 'symlink-loop'
            : 'other';
  return { kind: 'warning', key, code, message: `[${DRIVER_NAME}] ${key || '.'}: ${codeOf(err)}` };
}

export function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : String(err);
}
