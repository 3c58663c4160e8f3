// The fs walk on a local disk: plain system calls in one synchronous loop (a promise per call or per
// entry costs more than the call itself there). Same entries, warnings and order as the async walk.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { childrenOf, resolveChild, resolveSync, sortChildren, walkPath, warning, type Child, type DirRead, type WalkOptions } from './fs-walk-dir.ts';
import type { SourceEntry, SourceWarning } from './types.ts';

interface Frame {
  children: Child[];
  next: number;
  real: string;
  ancestors: ReadonlySet<string>;
}

/** Depth first, a directory's children in byte order; `ancestors` (real paths on the current path) detects symlink loops. */
export function* walkSync(opts: WalkOptions, startKey: string, startReal: string, ancestors: ReadonlySet<string>): Generator<SourceEntry | SourceWarning> {
  const stack: Frame[] = [];
  const enter = (key: string, real: string, above: ReadonlySet<string>): SourceWarning[] => {
    const read = readDirSync(opts, key, above);
    if (read.error) {
      return [read.error];
    }
    stack.push({ children: read.children, next: 0, real, ancestors: above });
    return read.warnings;
  };
  yield* enter(startKey, startReal, ancestors);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    const child = top.children[top.next++];
    if (child === undefined) {
      stack.pop();
    } else if (child.isDir) {
      // A plain sub-directory's real path is its parent's plus its name: no realpath call needed.
      const real = child.real ?? path.join(top.real, child.name);
      yield* enter(child.key, real, new Set(top.ancestors).add(real));
    } else if (child.entry && opts.include(child.key)) {
      yield child.entry;
    }
  }
}

function readDirSync(opts: WalkOptions, dirKey: string, ancestors: ReadonlySet<string>): DirRead {
  const warnings: SourceWarning[] = [];
  let children: Child[];
  try {
    children = childrenOf(opts, dirKey, readdirSync(walkPath(opts.root, dirKey), { withFileTypes: true, encoding: 'buffer' }));
  } catch (err) {
    return { children: [], warnings, error: warning(dirKey, err) };
  }
  for (const child of children) {
    resolveSync(resolveChild(opts, child, warnings, ancestors));
  }
  return { children: sortChildren(children), warnings };
}
