import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layer order, bottom first. A file may import its own layer or a lower one, never a higher one.
 * Paths are relative to the repository root; a file belongs to the longest prefix that matches.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/errors.ts', 'src/module-ext.ts', 'src/pool.ts', 'src/text/', 'src/secrets/', 'src/log.ts'],
  ['src/config/', 'src/context.ts'],
  ['src/engine/', 'src/es/', 'src/sources/', 'src/lease/'],
  ['src/record/'],
  ['src/formats/'],
  ['src/rollups/', 'src/search/'],
  ['src/sync/'],
  ['src/scheduler/'],
  ['jobs/', 'kibana/'],
  ['src/cli/'],
];

/** STYLE rule 1: split a file by responsibility before it grows past this. */
const MAX_LINES = 300;

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('architecture', () => {
  const files = [...listTs('src'), ...listTs('jobs'), ...listTs('kibana')];
  const edges = files.flatMap((file) => importsOf(file).map((to) => ({ from: file, to })));

  it('places every file of src/, jobs/ and kibana/ on a layer', () => {
    expect(files.filter((f) => layerOf(f) === -1)).toEqual([]);
  });

  it('imports only the same layer or a lower one', () => {
    const upward = edges.filter((e) => layerOf(e.to) > layerOf(e.from)).map((e) => `${e.from} -> ${e.to}`);

    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(edges)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const folderEdges = edges.map((e) => ({ from: unitOf(e.from), to: unitOf(e.to) })).filter((e) => e.from !== e.to);

    expect(cycles(folderEdges)).toEqual([]);
  });

  it(`keeps every file of src/ under ${MAX_LINES} lines`, () => {
    const long = listTs('src')
      .map((f) => ({ f, lines: readFileSync(path.join(ROOT, f), 'utf8').split('\n').length }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines}`);

    expect(long).toEqual([]);
  });

  it('opens every folder of src/ with a file that says what the folder is for', () => {
    const folders = listDirs('src').filter((dir) => dir !== 'src');
    const silent = folders.filter((dir) => !describesFolder(dir));

    expect(silent).toEqual([]);
  });

  it('finds the imports it checks (the walk itself works)', () => {
    expect(edges.some((e) => e.from === 'src/cli/app.ts' && e.to.startsWith('src/'))).toBe(true);
    expect(layerOf('src/cli/app.ts')).toBeGreaterThan(layerOf('src/errors.ts'));
    expect(
      cycles([
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ]),
    ).toEqual([['a', 'b']]);
  });
});

// --- internal ---

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(ROOT, rel)).isDirectory()) {
      out.push(...listTs(rel));
    } else if (name.endsWith('.ts')) {
      out.push(rel);
    }
  }
  return out;
}

function listDirs(dir: string): string[] {
  const out: string[] = [dir];
  for (const name of readdirSync(path.join(ROOT, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(ROOT, rel)).isDirectory()) {
      out.push(...listDirs(rel));
    }
  }
  return out;
}

/** Relative imports of a file, resolved to repository paths: `import … from '…'`, `export … from '…'`, `import('…')` and worker URLs. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"]([^'"]+\.ts)['"]/g),
  ].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  return specs.filter((s) => s.startsWith('.') && s.endsWith('.ts')).map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

function layerOf(file: string): number {
  let best = { layer: -1, length: 0 };
  LAYERS.forEach((prefixes, layer) => {
    for (const prefix of prefixes) {
      if (file.startsWith(prefix) && prefix.length > best.length) {
        best = { layer, length: prefix.length };
      }
    }
  });
  return best.layer;
}

/** The folder a file belongs to for the folder graph: `src/<folder>/`, a top-level folder, or the file itself at `src/`. */
function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'src') {
    return parts.length > 2 ? `src/${parts[1]}/` : file;
  }
  return `${parts[0]}/`;
}

/** Strongly connected components with more than one member (Tarjan), each sorted, as a sorted list. */
function cycles(edges: { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w !== undefined) {
          onStack.delete(w);
          component.push(w);
        }
      } while (w !== undefined && w !== v);
      if (component.length > 1) {
        found.push(component.sort());
      }
    }
  };
  for (const v of [...next.keys()].sort()) {
    if (!index.has(v)) {
      visit(v);
    }
  }
  return found.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

/** A folder explains itself in its index.ts (a leading comment) or in a readme.md. */
function describesFolder(dir: string): boolean {
  const names = readdirSync(path.join(ROOT, dir));
  if (names.some((n) => n.toLowerCase() === 'readme.md')) {
    return true;
  }
  if (!names.includes('index.ts')) {
    return false;
  }
  const text = readFileSync(path.join(ROOT, dir, 'index.ts'), 'utf8').trimStart();
  return text.startsWith('/**') || text.startsWith('//');
}
