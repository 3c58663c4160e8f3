// The fs driver's directory walk, on whichever thread lists (the driver's own, or fs-walk-worker.ts).
import { statSync, type Stats } from 'node:fs';
import { readdir, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { StorageError } from '../errors.ts';
import { resolveKeyPath } from './fs-names.ts';
import {
  childrenOf,
  codeOf,
  DRIVER_NAME,
  isCode,
  resolveAsync,
  resolveChild,
  sortChildren,
  walkPath,
  warning,
  type Child,
  type DirRead,
  type WalkOptions,
} from './fs-walk-dir.ts';
import { walkSync } from './fs-walk-sync.ts';
import type { SourceEntry, SourceWarning } from './types.ts';

export { codeOf, isCode } from './fs-walk-dir.ts';

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

/** statfs f_type of filesystems where every call crosses a network: NFS, SMB/CIFS, SMB2, FUSE (sshfs, s3fs…), Ceph, Lustre, GlusterFS via FUSE, AFS, 9p. */
const NETWORK_FS = new Set([0x6969, 0xff534d42, 0xfe534d42, 0x517b, 0x65735546, 0x00c36400, 0x0bd00bd0, 0x5346414f, 0x01021997]);

/** Sub-directories read ahead per level while the walk is elsewhere (see walkDir). */
const PREFETCH_DIRS = 8;

/** Lists the files under `prefix` (relative to the root), in the order the walk meets them, read as they are asked for. */
export async function* walkTree(opts: FsWalkOptions, prefix: string): AsyncGenerator<SourceEntry | SourceWarning> {
  for await (const items of walk(walkOptions(opts, prefix))) {
    yield* items;
  }
}

/** The same listing in arrays of up to `size` items: one promise per array, not per entry (what the listing thread sends). */
export async function* walkTreeBatches(opts: FsWalkOptions, prefix: string, size: number): AsyncGenerator<Array<SourceEntry | SourceWarning>> {
  let batch: Array<SourceEntry | SourceWarning> = [];
  for await (const items of walk(walkOptions(opts, prefix))) {
    for (const item of items) {
      batch.push(item);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) {
    yield batch;
  }
}

// --- internal ---

function walkOptions(opts: FsWalkOptions, prefix: string): WalkOptions {
  const include = opts.include && opts.include.length > 0 ? picomatch(opts.include, { dot: true }) : () => true;
  const exclude = opts.exclude && opts.exclude.length > 0 ? picomatch(opts.exclude, { dot: true }) : () => false;
  return {
    root: path.resolve(opts.root),
    start: prefix.replace(/\/+$/, ''),
    include,
    exclude,
    follow: opts.followSymlinks ?? false,
    concurrency: opts.statConcurrency ?? 32,
    io: opts.io ?? 'auto',
  };
}

/** The walk, as the sync walk's whole (lazy) iterator on a local disk, else one async step per entry. */
async function* walk(opts: WalkOptions): AsyncGenerator<Iterable<SourceEntry | SourceWarning>> {
  const startAbs = resolveKey(opts.root, opts.start);
  const rootInfo = await statStart(startAbs, opts.io);
  if (rootInfo === undefined) {
    if (opts.start !== '') {
      return;
    }
    throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] list ${startAbs}: ENOENT`);
  }
  if (!rootInfo.isDirectory()) {
    throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] list ${startAbs}: not a directory`);
  }
  const startReal = await realpath(startAbs);
  const ancestors = new Set<string>([startReal]);
  if (await isLocal(startAbs, opts.io)) {
    yield walkSync(opts, opts.start, startReal, ancestors);
    return;
  }
  for await (const item of walkDir(opts, opts.start, startReal, readDir(opts, opts.start, ancestors), ancestors)) {
    yield [item];
  }
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

/** Lists and stats one directory; never rejects (a failure is a warning). Files are stated `concurrency` at a time. */
async function readDir(opts: WalkOptions, dirKey: string, ancestors: ReadonlySet<string>): Promise<DirRead> {
  const warnings: SourceWarning[] = [];
  let children: Child[];
  try {
    children = childrenOf(opts, dirKey, await readdir(walkPath(opts.root, dirKey), { withFileTypes: true, encoding: 'buffer' }));
  } catch (err) {
    return { children: [], warnings, error: warning(dirKey, err) };
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < children.length) {
      await resolveAsync(resolveChild(opts, children[next++] as Child, warnings, ancestors));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, children.length) }, worker));
  return { children: sortChildren(children), warnings };
}

/**
 * The folder a walk starts from, undefined when it does not exist. A listing of a folder that does not exist is
 * common (adapters probe for log folders next to a run): on a local disk it is answered without building an
 * ENOENT error, which costs more than the call.
 */
async function statStart(abs: string | Buffer, io: WalkOptions['io']): Promise<Stats | undefined> {
  try {
    return io === 'sync' ? statSync(abs, { throwIfNoEntry: false }) : await stat(abs);
  } catch (err) {
    if (isCode(err, 'ENOENT')) {
      return undefined;
    }
    throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] list ${String(abs)}: ${codeOf(err)}`, { cause: err });
  }
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

export function resolveKey(root: string, key: string): string | Buffer {
  const abs = resolveKeyPath(root, key);
  if (abs === null) {
    throw new StorageError('storage-read-failed', `[${DRIVER_NAME}] ${key}: escapes the root`);
  }
  return abs;
}
