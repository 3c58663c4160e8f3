// One directory of the fs walk: its children, sorted, with files stated and symlinks resolved. The
// resolution is written once, as a generator of the calls it needs (fs-walk.ts answers them with the
// thread pool, fs-walk-sync.ts with plain system calls).
import { lstatSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { keyPath, nameToKey } from './fs-names.ts';
import type { SourceEntry, SourceWarning } from './types.ts';

/** Messages name the driver the walk lists for. */
export const DRIVER_NAME = 'fs';

export interface WalkOptions {
  root: string;
  start: string;
  include: (p: string) => boolean;
  exclude: (p: string) => boolean;
  follow: boolean;
  concurrency: number;
  io: 'auto' | 'sync' | 'async';
}

export interface Child {
  name: string;
  key: string;
  isDir: boolean;
  symlink: boolean;
  /** Real path of a followed directory symlink, for loop detection. */
  real?: string;
  entry?: SourceEntry;
}

export interface DirRead {
  children: Child[];
  warnings: SourceWarning[];
  error?: SourceWarning;
}

/** A call the resolution of a child needs; the answer is sent back into the generator (a failure thrown into it). */
export type FsCall = { op: 'stat' | 'lstat' | 'realpath'; path: string | Buffer };

/** The children of a directory from its entries (names read as bytes, see fs-names.ts), excluded ones left out. */
export function childrenOf(opts: WalkOptions, dirKey: string, dirents: Array<Dirent<Buffer>>): Child[] {
  const children: Child[] = [];
  for (const dirent of dirents) {
    const name = nameToKey(dirent.name);
    const key = dirKey === '' ? name : `${dirKey}/${name}`;
    if (opts.exclude(key)) {
      continue;
    }
    children.push({ name, key, isDir: dirent.isDirectory(), symlink: dirent.isSymbolicLink() });
  }
  return children;
}

/** Stats a file child (its entry) or resolves a symlink child (followed or not); a failure becomes a warning. */
export function* resolveChild(opts: WalkOptions, child: Child, warnings: SourceWarning[], ancestors: ReadonlySet<string>): Generator<FsCall, void, unknown> {
  const abs = walkPath(opts.root, child.key);
  try {
    if (child.symlink) {
      if (!opts.follow) {
        child.isDir = false;
        return;
      }
      const target = (yield { op: 'stat', path: abs }) as Stats;
      child.isDir = target.isDirectory();
      if (child.isDir) {
        const real = (yield { op: 'realpath', path: abs }) as string;
        if (ancestors.has(real)) {
          warnings.push({
            kind: 'warning',
            key: child.key,
            code: 'symlink-loop',
            message: `[${DRIVER_NAME}] ${child.key}: symlink loop to ${real}, not followed`,
          });
          child.isDir = false;
          return;
        }
        child.real = real;
        return;
      }
      // Only regular files are listed: a FIFO, socket or device behind a link is no file of a run.
      if (target.isFile()) {
        child.entry = { key: child.key, size: target.size, mtime: target.mtimeMs };
      }
      return;
    }
    if (child.isDir) {
      return;
    }
    const info = (yield { op: 'lstat', path: abs }) as Stats;
    if (info.isFile()) {
      child.entry = { key: child.key, size: info.size, mtime: info.mtimeMs };
    }
  } catch (err) {
    child.isDir = false;
    warnings.push(warning(child.key, err));
  }
}

/** Runs a resolution with plain system calls. */
export function resolveSync(steps: Generator<FsCall, void, unknown>): void {
  let step = steps.next();
  while (!step.done) {
    let answer: unknown;
    try {
      const { op, path } = step.value;
      answer = op === 'stat' ? statSync(path) : op === 'lstat' ? lstatSync(path) : realpathSync(path);
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(answer);
  }
}

/** Runs a resolution with thread-pool calls. */
export async function resolveAsync(steps: Generator<FsCall, void, unknown>): Promise<void> {
  let step = steps.next();
  while (!step.done) {
    let answer: unknown;
    try {
      const { op, path } = step.value;
      answer = await (op === 'stat' ? stat(path) : op === 'lstat' ? lstat(path) : realpath(path));
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(answer);
  }
}

/** Children in byte order of their names, a directory's name with a trailing `/` (the order listings promise). */
export function sortChildren(children: Child[]): Child[] {
  const keyed = children.map((child) => ({ child, bytes: Buffer.from(child.isDir ? `${child.name}/` : child.name) }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return keyed.map((k) => k.child);
}

/** Paths of entries the walk itself found (names from readdir): plain concatenation, no normalising needed. */
export function walkPath(root: string, key: string): string | Buffer {
  return keyPath(root, key);
}

export function warning(key: string, err: unknown): SourceWarning {
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
