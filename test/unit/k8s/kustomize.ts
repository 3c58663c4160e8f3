import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** The kustomization keys this renderer implements; any other key fails the render (and the test). */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'configMapGenerator', 'generatorOptions', 'patches']);

/**
 * Renders a kustomization the way `kustomize build` does for the subset k8s/ uses: resources (files and
 * directories), configMapGenerator from files (create/replace/merge, no name hash), namespace, images,
 * and strategic-merge patches (optionally with a kind/name target). Lists of objects with a `name`
 * are merged by name, as Kubernetes' patch strategy does for containers, env and volumes.
 */
export function renderKustomization(dir: string): Manifest[] {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) {
      throw new Error(`${dir}: kustomization key ${key} is not supported by the test renderer`);
    }
  }
  const options = (k.generatorOptions ?? {}) as { disableNameSuffixHash?: boolean };
  const docs: Manifest[] = [];
  for (const resource of (k.resources ?? []) as string[]) {
    const target = path.resolve(dir, resource);
    docs.push(...(statSync(target).isDirectory() ? renderKustomization(target) : readDocs(target)));
  }
  for (const gen of (k.configMapGenerator ?? []) as { name: string; behavior?: string; files: string[] }[]) {
    const data = Object.fromEntries(gen.files.map((f) => [path.basename(f), readFileSync(path.resolve(dir, f), 'utf8')]));
    const existing = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === gen.name);
    const behavior = gen.behavior ?? 'create';
    if (behavior === 'create') {
      if (existing || options.disableNameSuffixHash !== true) {
        throw new Error(`${dir}: configMapGenerator ${gen.name}: duplicate, or name hashing (unsupported) is on`);
      }
      docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data });
    } else if (existing) {
      existing.data = behavior === 'replace' ? data : { ...(existing.data as object), ...data };
    } else {
      throw new Error(`${dir}: configMapGenerator ${gen.name}: ${behavior} of a ConfigMap that does not exist`);
    }
  }
  for (const patch of (k.patches ?? []) as { path: string; target?: { kind?: string; name?: string } }[]) {
    const body = readDocs(path.resolve(dir, patch.path))[0] as Manifest;
    const matches = docs.filter((d) =>
      patch.target
        ? (patch.target.kind === undefined || d.kind === patch.target.kind) && (patch.target.name === undefined || d.metadata.name === patch.target.name)
        : d.kind === body.kind && d.metadata.name === body.metadata.name,
    );
    if (matches.length === 0) {
      throw new Error(`${dir}: patch ${patch.path} matches no resource`);
    }
    for (const doc of matches) {
      const { metadata: _ignored, ...rest } = body;
      Object.assign(doc, strategicMerge(doc, rest));
    }
  }
  if (typeof k.namespace === 'string') {
    for (const doc of docs) {
      doc.metadata.namespace = k.namespace;
    }
  }
  for (const image of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    for (const doc of docs) {
      for (const container of containersOf(doc)) {
        const [name, tag] = splitImage(container.image);
        if (name === image.name) {
          container.image = `${image.newName ?? name}${image.newTag ?? tag ? `:${image.newTag ?? tag}` : ''}`;
        }
      }
    }
  }
  return docs;
}

/** Every container (and init container) anywhere in a manifest. */
export function containersOf(doc: unknown): { name: string; image: string; [key: string]: unknown }[] {
  const out: { name: string; image: string }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
          out.push(...(value as { name: string; image: string }[]));
        }
        walk(value);
      }
    }
  };
  walk(doc);
  return out;
}

// --- internal ---

function readDocs(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

function strategicMerge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const byName = (items: unknown[]): boolean => items.every((i) => i !== null && typeof i === 'object' && 'name' in i);
    if (!byName(base) || !byName(patch)) {
      return patch;
    }
    // Like kustomize: the patch's items (merged into their namesakes) first, then the untouched ones.
    const patched = (patch as { name: string }[]).map((item) => {
      const original = (base as { name: string }[]).find((b) => b.name === item.name);
      return original ? strategicMerge(original, item) : item;
    });
    const names = new Set((patch as { name: string }[]).map((item) => item.name));
    return [...patched, ...(base as { name: string }[]).filter((b) => !names.has(b.name))];
  }
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      out[key] = value === null ? undefined : key in base ? strategicMerge(base[key], value) : value;
    }
    return out;
  }
  return patch;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function splitImage(image: string): [string, string | undefined] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}
